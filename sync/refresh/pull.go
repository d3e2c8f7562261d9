package refresh

import (
	"context"
	"fmt"
	gosync "sync"
	"time"

	"golang.org/x/sync/errgroup"

	"erpsync/sync/crm"
)

// Lister is the part of the CRM client that a refresh needs.
type Lister interface {
	ListPage(ctx context.Context, q crm.ListQuery) (*crm.Page, error)
}

// PullOptions tune a refresh.
type PullOptions struct {
	// Since is the watermark: customers changed at or after Since-Lookback
	// are fetched. Zero fetches every customer.
	Since    time.Time
	Lookback time.Duration // allowance for clock skew between us and the CRM
	// PageSize is the max asked for; 0 asks for the client's page size.
	// The walk never relies on it: the answers' paging says what follows.
	PageSize int
	// Keep, when set, says which customers the result holds; the others are
	// only counted. A refresh keeps those that may have drifted, so that
	// the pull of a million customers just written by an import stays small.
	Keep func(crm.Customer) (bool, error)
	// Prefetch, when set, is called with each page's customers before
	// Keep sees them (a refresh reads the checkpoint's records of a page
	// in one statement instead of one a customer).
	Prefetch func([]crm.Customer) error
	// Concurrency is how many timestamps are read again at once at the
	// end (the walk itself goes page after page); default 1.
	Concurrency int
}

// PullResult is what a refresh saw.
type PullResult struct {
	// Customers changed since the watermark, one per id, each at the newest
	// lastUpdated seen (only those that PullOptions.Keep keeps).
	Customers map[int64]crm.Customer
	Seen      int // customers seen, kept or not
	Pages     int
	// Newest is the greatest lastUpdated seen; zero when nothing changed.
	Newest time.Time
	// Unreadable are the records that could not be read, once each: the
	// refresh went on without them. Callers log and count them.
	Unreadable []*crm.RecordError
}

// Pull fetches the customers changed since the watermark, paging on
// lastUpdated itself (keyset) rather than on a plain offset, so that
// records changing while it pages are neither skipped nor counted twice.
// The API filters on whole seconds, while records may carry milliseconds:
// the key is the second of a record's lastUpdated.
//
//   - each page asks lastUpdated_gte=T sorted by lastUpdated ascending, T
//     being the second of the newest record of the previous page, and
//     skips as many records of that second as it has already seen;
//   - a record that changes meanwhile moves to a later timestamp, where the
//     walk meets it again; the copy with the newest lastUpdated wins;
//   - a page that skips records of its second asks for one more, the
//     last one seen (offset skip-1): when it is there, no record of that
//     second left or arrived before it since, and the offset holds; when
//     it is not (a record left the second mid-walk, shifting the others
//     under the offset), that second is read once more at the end
//     (lastUpdated_gte=T&lastUpdated_lt=T+1s). At a real CRM's pace
//     (tens of writes a second) nearly every page ends inside a second:
//     reading each again doubled the pull's requests.
//
// Whether a page is the last is read from its paging (next, total), never
// from its length: a server may cap the page size below the one asked.
// A walk whose pages make no progress stops with a *crm.StalledError.
func Pull(ctx context.Context, api Lister, opt PullOptions) (*PullResult, error) {
	p := &puller{
		api: api, opt: opt,
		res:    &PullResult{Customers: map[int64]crm.Customer{}},
		latest: map[int64]time.Time{},
		bad:    map[crm.Slot]bool{},
	}
	var from time.Time
	if !opt.Since.IsZero() {
		from = second(opt.Since.Add(-opt.Lookback))
	}
	spanned, err := p.walk(ctx, from)
	if err != nil {
		return nil, err
	}
	if err := p.recheck(ctx, spanned); err != nil {
		return nil, err
	}
	p.res.Seen = len(p.latest)
	return p.res, nil
}

// puller holds a refresh's state; take may be called from several
// goroutines.
type puller struct {
	api Lister
	opt PullOptions
	res *PullResult

	mu      gosync.Mutex
	latest  map[int64]time.Time // newest lastUpdated seen per id: 16 bytes each
	bad     map[crm.Slot]bool   // unreadable records already reported
	keepErr error
}

// walk reads the pages from the second from on and returns the seconds
// whose records spanned a page boundary.
func (p *puller) walk(ctx context.Context, from time.Time) (map[time.Time]bool, error) {
	spanned := map[time.Time]bool{}
	key := keyset{t: from}
	guard := crm.Progress{Walk: "refresh from the CRM"}
	for {
		q := key.query(p.opt.PageSize)
		page, err := p.api.ListPage(ctx, q)
		if err == nil {
			err = guard.Check(q, page)
		}
		if err != nil {
			return nil, fmt.Errorf("refresh from the CRM, page %d (changes since %s): %w",
				p.res.Pages+1, sinceText(key.t), err)
		}
		if err := p.take(page); err != nil {
			return nil, err
		}
		slots := page.Slots()
		if key.expect != 0 {
			if len(slots) == 0 || slots[0].ID != key.expect {
				spanned[key.t] = true // shifted under the offset
			}
			slots = slots[min(1, len(slots)):]
		}
		if !page.More(q) {
			return spanned, nil
		}
		if len(slots) > 0 {
			key.advance(slots)
		} else {
			key.expect = 0 // one record a page: no room to check
		}
		if key.expect == 0 && key.skip > 0 {
			spanned[key.t] = true // unchecked: read again at the end
		}
	}
}

func sinceText(t time.Time) string {
	if t.IsZero() {
		return "the start"
	}
	return t.Format(crm.TimeLayout)
}

// keyset is the position of the walk: the records of lastUpdated_gte=t
// after the first skip.
// expect, when not 0, is the id of the last record seen (the skip-th of
// second t): the query asks from it, to see that it is still there.
type keyset struct {
	t      time.Time
	skip   int
	expect int64
}

func (k keyset) query(size int) crm.ListQuery {
	q := crm.ListQuery{Sort: "lastUpdated", Order: "asc", Max: size, Offset: k.skip, LastUpdatedGte: k.t}
	if k.expect != 0 {
		q.Offset--
	}
	return q
}

// advance moves the key past a page. The new key is the second of the
// page's last record, skipping the records of that second the page held.
// Records that could not be read may have no time: one at the end keeps
// the key where it is (plain offset paging, always right), and one among
// the records of the last second is not counted (it is read again rather
// than risking to skip a record).
func (k *keyset) advance(slots []crm.Slot) {
	last := slots[len(slots)-1].LastUpdated
	// The last record is the skip-th of the new key's second. A page of
	// one record leaves no room for the check; nor does an unreadable one.
	k.expect = 0
	if len(slots) > 1 {
		k.expect = slots[len(slots)-1].ID
	}
	if last.IsZero() || !second(last).After(k.t) {
		k.skip += len(slots)
		return
	}
	k.t, k.skip = second(last), 0
	for i := len(slots) - 1; i >= 0; i-- {
		ts := slots[i].LastUpdated
		if ts.IsZero() || !second(ts).Equal(k.t) {
			break
		}
		k.skip++
	}
}

// second is the key of a time: the API's filters take whole seconds.
func second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// take records a page's customers and unreadable records; it returns the
// first error of Keep.
func (p *puller) take(page *crm.Page) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.res.Pages++
	if p.opt.Prefetch != nil && p.keepErr == nil {
		p.keepErr = p.opt.Prefetch(page.Data)
	}
	for _, c := range page.Data {
		p.keep(c)
	}
	for _, bad := range page.Unreadable {
		key := crm.Slot{ID: bad.ID, LastUpdated: bad.LastUpdated}
		if !p.bad[key] || bad.ID == 0 {
			p.bad[key] = true
			p.res.Unreadable = append(p.res.Unreadable, bad)
		}
	}
	return p.keepErr
}

// keep records a customer unless a newer copy was seen.
func (p *puller) keep(c crm.Customer) {
	if t, ok := p.latest[c.ID]; ok && !c.LastUpdated.After(t) {
		return
	}
	p.latest[c.ID] = c.LastUpdated.Time
	if c.LastUpdated.After(p.res.Newest) {
		p.res.Newest = c.LastUpdated.Time
	}
	if p.opt.Keep != nil {
		ok, err := p.opt.Keep(c)
		if err != nil && p.keepErr == nil {
			p.keepErr = err
		}
		if !ok {
			delete(p.res.Customers, c.ID) // an older copy kept before
			return
		}
	}
	p.res.Customers[c.ID] = c
}

// recheck reads again every second in spanned. They are independent of
// one another: after a large import there are thousands, each of many
// pages.
func (p *puller) recheck(ctx context.Context, spanned map[time.Time]bool) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(p.opt.Concurrency, 1))
	for ts := range spanned {
		g.Go(func() error { return p.pullSecond(gctx, ts) })
	}
	return g.Wait() // a Keep error stops the other rechecks too
}

// pullSecond reads every record whose lastUpdated falls in the second ts.
func (p *puller) pullSecond(ctx context.Context, ts time.Time) error {
	guard := crm.Progress{Walk: "refresh recheck of " + ts.Format(crm.TimeLayout)}
	q := crm.ListQuery{Sort: "lastUpdated", Order: "asc", Max: p.opt.PageSize,
		LastUpdatedGte: ts, LastUpdatedLt: ts.Add(time.Second)}
	for {
		page, err := p.api.ListPage(ctx, q)
		if err == nil {
			err = guard.Check(q, page)
		}
		if err != nil {
			return fmt.Errorf("refresh recheck of %s: %w", ts.Format(crm.TimeLayout), err)
		}
		if err := p.take(page); err != nil {
			return err
		}
		if !page.More(q) {
			return nil
		}
		q.Offset += page.Len()
	}
}
