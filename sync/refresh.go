package sync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
	"erpsync/sync/refresh"
)

// DefaultFullCheck is how often a run walks every customer of the CRM
// when sync.full_check is not set.
//
// Why a full walk at all: counting finds every customer that left or
// arrived in a window of lastUpdated, except when a leave and an arrival
// fall in the same window and cancel out (a hand delete and a hand edit
// landing in the same second of an import, say). The weekly walk reads
// every customer once and compares it with the checkpoint, so that such
// a pair is found within a week; between walks, runs cost a few requests.
const DefaultFullCheck = 168 * time.Hour

// refreshed is what a run's refresh of the CRM side saw, remembered once
// the run has finished.
type refreshed struct {
	started time.Time // the next watermark
	from    time.Time // where the pull started
	full    bool      // every customer was read
	drift   []plan.Drift
	seen    []state.Seen
	counted state.Counted
	count   *CountResult
	// unreadable are the CRM's records the pull could not read even
	// leniently: reported, and the run ends with row failures.
	unreadable []*crm.RecordError
}

// refreshCRM pulls the CRM's changes since the watermark, counts the
// customers below it against the checkpoint (reading only the windows
// that differ), and finds drift and hand deletes.
func refreshCRM(ctx context.Context, j Job) (*refreshed, error) {
	r := &refreshed{started: j.State.Now()}
	verified, err := r.points(ctx, j)
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	s := &sighting{ctx: ctx, db: j.State, from: r.from, pulled: map[string]bool{}, all: map[string]bool{}}
	if s.contentCheck, err = lastRunWasNotImport(ctx, j.State); err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	pulled, err := Pull(ctx, j.CRM, PullOptions{Since: r.from, Keep: s.keep, Prefetch: s.prefetch, Concurrency: j.Settings.Concurrency})
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	for _, bad := range pulled.Unreadable { // there, though unreadable: never taken for gone
		s.all[keyOf(bad.Reference, bad.ID)] = true
	}
	r.count, err = Count(ctx, j.CRM, j.State, CountOptions{VerifiedUntil: verified, PullFrom: r.from,
		Moved: s.moved, Pulled: s.pulled, Concurrency: j.Settings.Concurrency})
	if err == nil {
		err = s.goneInWalk(ctx, j, r.count)
	}
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	for _, c := range r.count.Arrived {
		pulled.Customers[c.ID] = c
	}
	r.unreadable = append(pulled.Unreadable, r.count.Unreadable...)
	if err := r.sort(ctx, j, pulled); err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	return r, nil
}

// points reads where the pull starts, whether this run walks everything,
// and the end of the verified span.
func (r *refreshed) points(ctx context.Context, j Job) (verified time.Time, err error) {
	db := j.State
	since, err := db.Watermark(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if verified, err = db.VerifiedUntil(ctx); err != nil {
		return time.Time{}, err
	}
	last, err := db.FullCheck(ctx)
	if err != nil {
		return time.Time{}, err
	}
	every := j.Settings.FullCheck
	if every == 0 {
		every = DefaultFullCheck
	}
	r.full = since.IsZero() || every > 0 && !last.IsZero() && r.started.Sub(last) >= every
	if !r.full {
		r.from = second(since.Add(-j.Settings.Lookback))
	}
	if verified.IsZero() && !since.IsZero() {
		verified = r.from // a checkpoint older than counting: runs have read up to here
	}
	return verified, nil
}

// sort sorts the customers seen into drift and what to remember: managed
// ones go through FindDrift, the others are counted; the hand deletes
// found now or before become drift of their own.
func (r *refreshed) sort(ctx context.Context, j Job, pulled *PullResult) error {
	managed := &PullResult{Customers: map[int64]crm.Customer{}}
	for id, c := range pulled.Customers {
		_, ok, err := j.State.CRMLastUpdated(ctx, c.Reference)
		if err != nil {
			return err
		}
		if ok {
			managed.Customers[id] = c
			continue
		}
		r.counted.Unmanaged = append(r.counted.Unmanaged,
			state.Known{Reference: c.Reference, CRMID: c.ID, LastUpdated: c.LastUpdated.Time})
	}
	var err error
	if r.drift, r.seen, err = FindDrift(ctx, managed, j.State, mapping.CountryCode); err != nil {
		return err
	}
	for _, g := range r.count.Gone {
		if g.Managed {
			r.counted.Gone = append(r.counted.Gone, g)
		} else {
			r.counted.Forget = append(r.counted.Forget, g.CRMID)
		}
	}
	return r.deletedByHand(ctx, j, managed)
}

// deletedByHand adds a drift for every managed customer deleted by hand:
// found now, or before and not pushed or seen again since.
func (r *refreshed) deletedByHand(ctx context.Context, j Job, seen *PullResult) error {
	back := map[string]bool{}
	for _, c := range seen.Customers {
		back[c.Reference] = true
	}
	before, err := j.State.DeletedByHand(ctx)
	if err != nil {
		return err
	}
	gone := map[string]state.Known{}
	for _, g := range append(before, r.counted.Gone...) {
		if !back[g.Reference] {
			gone[g.Reference] = g
		}
	}
	for _, ref := range slices.Sorted(maps.Keys(gone)) {
		r.drift = append(r.drift, plan.Drift{Reference: ref, CRMID: gone[ref].CRMID, Deleted: true})
	}
	return nil
}

// sighting decides which customers a pull keeps: those the checkpoint
// does not know as they are. It notes the known ones that left the
// counted span, and every customer seen.
type sighting struct {
	ctx  context.Context
	db   *state.DB
	from time.Time
	// contentCheck compares the content of the last run's own writes
	// (sameSecond). Not after an import: its writes fill the span (a
	// million customers read back one by one); its windows are counted.
	contentCheck bool
	pulled       map[string]bool // keys of the customers kept
	all          map[string]bool // keys of every customer seen
	moved        []time.Time
	// page is what the checkpoint knows of the references of the page
	// being kept (prefetch): every one of them, known or not.
	page map[string]pageKnown
}

// pageKnown is what the checkpoint knows of one reference of a page.
type pageKnown struct {
	state.Known
	ok bool // known at all
}

// prefetch is PullOptions.Prefetch: the records of a page's references,
// in one statement (after an import, a refresh keeps some 10,000 to
// 45,000 customers, 39 µs each one by one).
func (s *sighting) prefetch(cs []crm.Customer) error {
	refs := make([]string, 0, len(cs))
	for _, c := range cs {
		refs = append(refs, c.Reference)
	}
	known, err := s.db.KnownByReferences(s.ctx, refs)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	s.page = make(map[string]pageKnown, len(refs))
	for _, ref := range refs {
		k, ok := known[ref]
		s.page[ref] = pageKnown{k, ok}
	}
	return nil
}

// known is what the checkpoint knows of a reference: from the page's
// prefetch, else asked.
func (s *sighting) known(ref string) (state.Known, bool, error) {
	if k, ok := s.page[ref]; ok {
		return k.Known, k.ok, nil
	}
	return s.db.KnownByReference(s.ctx, ref)
}

// sameSecond reports a customer whose lastUpdated is the one erpsync
// recorded, in the span this pull reads: erpsync wrote it since the last
// run, and a hand edit in the same second would leave its lastUpdated
// unchanged (whole-second timestamps), so its content is compared
// (FindDrift). Such customers are the last run's writes; in a full walk
// (no span) they are not, and are passed over as before.
func (s *sighting) sameSecond(k state.Known) bool {
	return s.contentCheck && !s.from.IsZero() && !k.LastUpdated.Before(s.from)
}

// editedInSameSecond compares a customer whose lastUpdated erpsync
// recorded with what the CRM answered right after erpsync's push: other
// values mean a hand edit in that very second.
func (s *sighting) editedInSameSecond(c crm.Customer) (bool, error) {
	rec, err := s.db.Get(s.ctx, c.Reference)
	if err != nil || rec == nil {
		return false, err
	}
	now := refresh.CRMValues(&c, slices.Collect(maps.Keys(rec.Values)), mapping.CountryCode)
	return len(refresh.Differences(rec.CRMValues, now)) > 0, nil
}

// lastRunWasNotImport reports whether the newest ended run of the history
// (the one in progress aside) is not an import.
func lastRunWasNotImport(ctx context.Context, db *state.DB) (bool, error) {
	runs, err := db.Runs(ctx, 2)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if r.Status != state.StatusRunning {
			return r.Kind != string(ModeImport), nil
		}
	}
	return true, nil
}

// keep is PullOptions.Keep; Pull calls it under its lock.
func (s *sighting) keep(c crm.Customer) (bool, error) {
	key := keyOf(c.Reference, c.ID)
	s.all[key] = true
	k, ok, err := s.known(c.Reference)
	if err != nil {
		return false, fmt.Errorf("read checkpoint of %s: %w", c.Reference, err)
	}
	if ok && k.CRMID == c.ID && k.LastUpdated.Equal(c.LastUpdated.Time) { // the checkpoint keeps the CRM's precision
		if !s.sameSecond(k) {
			return false, nil
		}
		edited, err := s.editedInSameSecond(c)
		if err != nil || !edited {
			return false, err // as erpsync left it: not kept, so memory stays bounded
		}
	}
	if ok && k.LastUpdated.Before(s.from) && !s.pulled[key] {
		s.moved = append(s.moved, k.LastUpdated)
	}
	s.pulled[key] = true
	return true, nil
}

// goneInWalk finds the known customers of the pulled span (everything,
// in a full walk) that the pull never saw: a pull shows what changed,
// not what was deleted.
func (s *sighting) goneInWalk(ctx context.Context, j Job, res *CountResult) error {
	known, err := j.State.KnownIn(ctx, s.from, time.Time{})
	if err != nil {
		return fmt.Errorf("check the pulled span: %w", err)
	}
	c := &counter{api: j.CRM, opt: CountOptions{Concurrency: j.Settings.Concurrency},
		missing: map[string]state.Known{}, arrived: map[string]bool{}}
	for _, k := range known {
		if key := keyOf(k.Reference, k.CRMID); !s.all[key] {
			c.missing[key] = k
		}
	}
	if err := c.confirm(ctx); err != nil {
		return fmt.Errorf("check the pulled span: %w", err)
	}
	res.Gone = append(res.Gone, c.res.Gone...)
	res.Arrived = append(res.Arrived, c.res.Arrived...)
	res.Unreadable = append(res.Unreadable, c.res.Unreadable...)
	res.Requests += int(c.requests.Load())
	return nil
}

// remember stores, after a finished run, what the refresh saw, the next
// watermark and the mapping's fingerprint; runErr is passed on, or the
// failure to remember, which is fatal. A dry run remembers nothing, nor
// does a run that did not finish.
func (r *run) remember(ctx context.Context, runErr error) error {
	if r.j.DryRun || !Finished(runErr) {
		return runErr
	}
	if err := r.saveRefresh(context.WithoutCancel(ctx)); err != nil {
		return WithClass(ClassFatal, err)
	}
	return runErr
}

// saveRefresh moves the watermark and records the CRM copies seen and
// what counting found.
func (r *run) saveRefresh(ctx context.Context) error {
	db := r.j.State
	if r.refreshed == nil {
		if err := r.saveImport(ctx); err != nil {
			return err
		}
		return db.SetFingerprint(ctx, r.j.Mapping.Fingerprint())
	}
	// What the refresh saw of a customer this run then wrote is older
	// than what the writer recorded from the CRM's answer: keep the latter.
	written := map[string]bool{}
	for a := range r.out.Plan.All() {
		written[a.Reference] = true
	}
	var seen []state.Seen
	for _, s := range r.refreshed.seen {
		if !written[s.Reference] {
			seen = append(seen, s)
		}
	}
	if err := db.SaveSeen(ctx, seen); err != nil {
		return err
	}
	if err := r.refreshed.save(ctx, db, r.j.Settings.Lookback); err != nil {
		return err
	}
	return db.SetFingerprint(ctx, r.j.Mapping.Fingerprint())
}

// save records what counting found, the next watermark, where the
// verified span now ends and, after a full walk, when it was.
func (rf *refreshed) save(ctx context.Context, db *state.DB, lookback time.Duration) error {
	rf.counted.At = rf.started
	if err := db.SaveCounted(ctx, rf.counted); err != nil {
		return err
	}
	if err := db.SetWatermark(ctx, rf.started); err != nil {
		return err
	}
	if err := db.SetVerifiedUntil(ctx, second(rf.started.Add(-lookback))); err != nil {
		return err
	}
	last, err := db.FullCheck(ctx)
	if err != nil {
		return err
	}
	if rf.full || last.IsZero() { // the first count starts the full walk's clock
		return db.SetFullCheck(ctx, rf.started)
	}
	return nil
}

// saveImport moves the watermark to the import's end: the next run
// counts what the import wrote rather than reading it. The verified span
// stays where it was (an import on a new checkpoint verifies nothing:
// the next run counts every second the import wrote).
func (r *run) saveImport(ctx context.Context) error {
	db := r.j.State
	mark, err := db.Watermark(ctx)
	if err != nil {
		return err
	}
	verified, err := db.VerifiedUntil(ctx)
	if err != nil {
		return err
	}
	if verified.IsZero() {
		verified = time.Unix(1, 0).UTC() // nothing before: every second written is counted
		if !mark.IsZero() {
			verified = second(mark.Add(-r.j.Settings.Lookback)) // a checkpoint older than counting
		}
		if err := db.SetVerifiedUntil(ctx, verified); err != nil {
			return err
		}
	}
	last, err := db.FullCheck(ctx)
	if err != nil {
		return err
	}
	if last.IsZero() { // the import starts the full walk's clock
		if err := db.SetFullCheck(ctx, db.Now()); err != nil {
			return err
		}
	}
	return db.SetWatermark(ctx, db.Now())
}
