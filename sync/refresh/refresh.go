package refresh

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

// CRM is what a refresh asks the CRM: pages of customers (Pull)
// and counts of windows (Count).
type CRM interface {
	Lister
	CountAPI
}

// Checkpoint is what a refresh reads of the checkpoint (its records, its
// known customers, its marks, its clock), and what Save and SaveImport
// write once the run has finished.
type Checkpoint interface {
	state.RecordReader
	state.KnownReader
	state.Marks
	SaveCounted(ctx context.Context, c state.Counted) error
	Clock() time.Time
}

// Options are what a refresh reads, and how.
type Options struct {
	CRM         CRM
	State       Checkpoint
	Concurrency int
	FullCheck   time.Duration // a refresh walks every customer this often; 0: DefaultFullCheck, < 0: never
	Lookback    time.Duration // widens the pulled span for clock skew with the CRM
	// ContentCheck compares the content of the last run's own writes
	// (sighting.sameSecond): true unless the last run was an import.
	ContentCheck bool
}

// Result is what a refresh of the CRM side saw: the drift for the plan,
// the records it could not read, and what to remember once the run has
// finished (Save).
type Result struct {
	Drift []plan.Drift
	// Seen is what the CRM now holds of each managed customer pulled.
	Seen []state.Seen
	// Unreadable are the CRM's records the pull could not read even
	// leniently: reported, and the run ends with row failures.
	Unreadable []*crm.RecordError

	started time.Time // the next watermark
	from    time.Time // where the pull started
	full    bool      // every customer was read
	counted state.Counted
	count   *CountResult
}

// Run pulls the CRM's changes since the watermark, counts the
// customers below it against the checkpoint (reading only the windows
// that differ), and finds drift and hand deletes. It records nothing:
// Save does, once the run has finished.
func Run(ctx context.Context, opt Options) (*Result, error) {
	r := &Result{started: opt.State.Clock()}
	verified, err := r.points(ctx, opt)
	if err != nil {
		return nil, err
	}
	s := &sighting{ctx: ctx, db: opt.State, from: r.from, pulled: map[string]bool{}, all: map[string]bool{},
		contentCheck: opt.ContentCheck}
	pulled, err := Pull(ctx, opt.CRM, PullOptions{Since: r.from, Keep: s.keep, Prefetch: s.prefetch, Concurrency: opt.Concurrency})
	if err != nil {
		return nil, err
	}
	for _, bad := range pulled.Unreadable { // there, though unreadable: never taken for gone
		s.all[keyOf(bad.Reference, bad.ID)] = true
	}
	r.count, err = Count(ctx, opt.CRM, opt.State, CountOptions{VerifiedUntil: verified, PullFrom: r.from,
		Moved: s.moved, Pulled: s.pulled, Concurrency: opt.Concurrency})
	if err == nil {
		err = s.goneInWalk(ctx, opt, r.count)
	}
	if err != nil {
		return nil, err
	}
	for _, c := range r.count.Arrived {
		pulled.Customers[c.ID] = c
	}
	r.Unreadable = append(pulled.Unreadable, r.count.Unreadable...)
	if err := r.sort(ctx, opt.State, pulled); err != nil {
		return nil, err
	}
	return r, nil
}

// points reads where the pull starts, whether this run walks everything,
// and the end of the verified span.
func (r *Result) points(ctx context.Context, opt Options) (verified time.Time, err error) {
	db := opt.State
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
	every := opt.FullCheck
	if every == 0 {
		every = DefaultFullCheck
	}
	r.full = since.IsZero() || every > 0 && !last.IsZero() && r.started.Sub(last) >= every
	if !r.full {
		r.from = second(since.Add(-opt.Lookback))
	}
	if verified.IsZero() && !since.IsZero() {
		verified = r.from // a checkpoint older than counting: runs have read up to here
	}
	return verified, nil
}

// sort sorts the customers seen into drift and what to remember: managed
// ones go through FindDrift, the others are counted; the hand deletes
// found now or before become drift of their own.
func (r *Result) sort(ctx context.Context, db Checkpoint, pulled *PullResult) error {
	managed := &PullResult{Customers: map[int64]crm.Customer{}}
	for id, c := range pulled.Customers {
		_, ok, err := db.CRMLastUpdated(ctx, c.Reference)
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
	if r.Drift, r.Seen, err = FindDrift(ctx, managed, db, mapping.CountryCode); err != nil {
		return err
	}
	for _, g := range r.count.Gone {
		if g.Managed {
			r.counted.Gone = append(r.counted.Gone, g)
		} else {
			r.counted.Forget = append(r.counted.Forget, g.CRMID)
		}
	}
	return r.deletedByHand(ctx, db, managed)
}

// deletedByHand adds a drift for every managed customer deleted by hand:
// found now, or before and not pushed or seen again since.
func (r *Result) deletedByHand(ctx context.Context, db Checkpoint, seen *PullResult) error {
	back := map[string]bool{}
	for _, c := range seen.Customers {
		back[c.Reference] = true
	}
	before, err := db.DeletedByHand(ctx)
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
		r.Drift = append(r.Drift, plan.Drift{Reference: ref, CRMID: gone[ref].CRMID, Deleted: true})
	}
	return nil
}

// sighting decides which customers a pull keeps: those the checkpoint
// does not know as they are. It notes the known ones that left the
// counted span, and every customer seen.
type sighting struct {
	ctx  context.Context
	db   Checkpoint
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
	now := CRMValues(&c, slices.Collect(maps.Keys(rec.Values)), mapping.CountryCode)
	return len(Differences(rec.CRMValues, now)) > 0, nil
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
func (s *sighting) goneInWalk(ctx context.Context, opt Options, res *CountResult) error {
	known, err := opt.State.KnownIn(ctx, s.from, time.Time{})
	if err != nil {
		return fmt.Errorf("check the pulled span: %w", err)
	}
	c := &counter{api: opt.CRM, opt: CountOptions{Concurrency: opt.Concurrency},
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

// Save records what counting found, the next watermark, where the
// verified span now ends and, after a full walk, when it was.
func (rf *Result) Save(ctx context.Context, db Checkpoint, lookback time.Duration) error {
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

// SaveImport moves the watermark to the import's end: the next run
// counts what the import wrote rather than reading it. The verified span
// stays where it was (an import on a new checkpoint verifies nothing:
// the next run counts every second the import wrote).
func SaveImport(ctx context.Context, db Checkpoint, lookback time.Duration) error {
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
			verified = second(mark.Add(-lookback)) // a checkpoint older than counting
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
		if err := db.SetFullCheck(ctx, db.Clock()); err != nil {
			return err
		}
	}
	return db.SetWatermark(ctx, db.Clock())
}
