package refresh

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	gosync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"erpsync/state"
	"erpsync/sync/crm"
)

// Counting verifies the CRM side without reading it (issue 14 §1). The
// list API answers paging.total for any filter, for one request of max=1;
// the checkpoint knows, from the answers to erpsync's own writes and from
// what earlier refreshes saw, which customers the CRM holds and the
// lastUpdated of each. A window of lastUpdated whose count in the CRM is
// the one expected needs no reading; one that differs is split until the
// customers that differ are found, and only those windows are read.
//
// Two spans are counted, both below the point where the refresh's pull
// starts (from it on, everything is read):
//
//   - the verified span, before VerifiedUntil: every customer there was
//     read or counted by a finished run, and since then a change can only
//     take a customer out (a deletion, or an edit moving it to a later
//     lastUpdated). What can be there besides is a customer the checkpoint
//     never knew (the first run after init -adopt, or after the upgrade
//     that brought counting: the unmanaged table starts empty). Its +1
//     would cancel a -1 anywhere in one count of the whole span, so the
//     span is counted in verifiedWindows windows holding about as many
//     known customers each: a surplus in one cannot hide a loss in
//     another. A window that differs is split in halves until what
//     differs is read; the unknown customers read there are recorded as
//     unmanaged (the refresh's sort), so their surplus is gone next time;
//   - the unverified span, from VerifiedUntil to the pull (after an
//     import: everything it wrote), where customers can both leave and
//     arrive (a hand edit during the import leaves the window erpsync
//     wrote it in for a later one): it is counted in windows of about
//     writtenWindow known customers each, at least verifiedWindows of
//     them, so that its cost follows the customers written, never the
//     seconds the import took (issue 25: one window per second cost a
//     20,000-row import 140 requests, a 1M import at 50 writes/s 20,000).
//
// A window that differs is cut in two at its known customers' median;
// the first half is counted (with a page of customers when it is small
// enough to be read by that same request) and the second half's count
// is the window's less the first's, so narrowing costs one request a
// level: about log2(writtenWindow/page size) counts and one page for each
// customer that differs.
//
// A leave and an arrival within the same window cancel out and are not
// seen (a hand delete and a hand create, or a hand edit landing in the
// window erpsync wrote the customer in: within about writtenWindow
// writes of it): that is what sync.full_check's periodic full walk is
// for.

// CountAPI is the part of the CRM client that counting needs.
type CountAPI interface {
	Lister
	ShowByReference(ctx context.Context, ref string) (*crm.Customer, error)
}

// KnownCheckpoint is the part of the checkpoint that counting reads.
type KnownCheckpoint interface {
	CountKnown(ctx context.Context, from, until time.Time) (int, error)
	KnownIn(ctx context.Context, from, until time.Time) ([]state.Known, error)
	KnownWindows(ctx context.Context, from, until time.Time, size, least int) ([]state.KnownWindow, error)
	KnownBounds(ctx context.Context, from, until time.Time, parts int) ([]time.Time, error)
	MedianKnown(ctx context.Context, from, until time.Time) (time.Time, error)
}

// CountOptions say what to count.
type CountOptions struct {
	VerifiedUntil time.Time // end of the verified span (zero: none)
	PullFrom      time.Time // where the pull started: the end of both spans
	// Moved are the recorded lastUpdated of the known customers that the
	// pull saw at another time: they left their window.
	Moved []time.Time
	// Pulled are the references the pull saw: not gone, wherever they were.
	Pulled      map[string]bool
	PageSize    int // of the counts' reads; 0: 100 (the reference's default)
	Concurrency int // windows counted at once; default 1
}

// CountResult is what counting found.
type CountResult struct {
	// Arrived are the customers read in windows that differ and that the
	// checkpoint does not know as they are (new, or at another time).
	Arrived []crm.Customer
	// Gone are the known customers that the CRM no longer has.
	Gone     []state.Known
	Windows  int // windows counted
	Read     int // windows read
	Requests int // requests sent
	// Unreadable are the records of the windows read, or of the lookups,
	// that could not be read even leniently: present in the CRM (never
	// taken for gone), reported, and the run ends with row failures.
	Unreadable []*crm.RecordError
}

// window is [lo, hi) of lastUpdated, to the second; a zero lo has no start.
type window struct{ lo, hi time.Time }

func (w window) String() string {
	return fmt.Sprintf("[%s, %s)", sinceText(w.lo), w.hi.Format(crm.TimeLayout))
}

// counter holds one count; its methods may run concurrently.
type counter struct {
	api      CountAPI
	cp       KnownCheckpoint
	opt      CountOptions
	requests atomic.Int64

	mu      gosync.Mutex
	res     CountResult
	missing map[string]state.Known // known, not found where expected
	arrived map[string]bool        // keys of the customers read that arrived
}

// Count compares the CRM's counts per lastUpdated window with the
// checkpoint's, below opt.PullFrom, and reads only where they differ.
func Count(ctx context.Context, api CountAPI, cp KnownCheckpoint, opt CountOptions) (*CountResult, error) {
	c := &counter{api: api, cp: cp, opt: opt, missing: map[string]state.Known{}, arrived: map[string]bool{}}
	if opt.PullFrom.IsZero() {
		return &c.res, nil // the pull reads everything
	}
	verified := opt.VerifiedUntil
	if verified.After(opt.PullFrom) {
		verified = opt.PullFrom
	}
	// A verified span that ends at 1970-01-01T00:00:01Z (after an import
	// on a new checkpoint: nothing before) holds no customer.
	if verified.After(time.Unix(1, 0)) {
		if err := c.checkVerified(ctx, window{hi: verified}); err != nil {
			return nil, err
		}
	}
	if verified.Before(opt.PullFrom) {
		if err := c.checkWritten(ctx, window{lo: verified, hi: opt.PullFrom}); err != nil {
			return nil, err
		}
	}
	if err := c.confirm(ctx); err != nil {
		return nil, err
	}
	c.res.Requests = int(c.requests.Load())
	return &c.res, nil
}

// verifiedWindows is how many windows the verified span is counted in
// when nothing differs: one request each per run. The unverified span is
// counted in at least as many.
const verifiedWindows = 3

// writtenWindow is about how many known customers a window of the
// unverified span holds: one count request per writtenWindow customers
// written, and a leave and an arrival cancel out only within as many.
const writtenWindow = 1000

// checkVerified counts the verified span w in verifiedWindows windows of
// about equal numbers of known customers, concurrently; each window that
// differs is split until what differs is read.
func (c *counter) checkVerified(ctx context.Context, w window) error {
	cuts, err := c.cp.KnownBounds(ctx, w.lo, w.hi, verifiedWindows)
	if err != nil {
		return fmt.Errorf("count the CRM: %w", err)
	}
	var wins []window
	lo := w.lo
	for _, s := range append(cuts, w.hi) {
		if !s.After(lo) || s.After(w.hi) {
			continue
		}
		wins = append(wins, window{lo: lo, hi: s})
		lo = s
	}
	return c.checkAll(ctx, wins, nil)
}

// checkWritten counts the unverified span w in windows of about
// writtenWindow known customers (at least verifiedWindows), concurrently.
func (c *counter) checkWritten(ctx context.Context, w window) error {
	kw, err := c.cp.KnownWindows(ctx, w.lo, w.hi, writtenWindow, verifiedWindows)
	if err != nil {
		return fmt.Errorf("count the CRM: %w", err)
	}
	wins := make([]window, len(kw))
	known := make([]int, len(kw))
	for i, k := range kw {
		wins[i], known[i] = window{lo: k.From, hi: k.Until}, k.Known
	}
	return c.checkAll(ctx, wins, known)
}

// checkAll counts each window concurrently and narrows those that differ;
// known, when given, are the checkpoint's counts of the windows.
func (c *counter) checkAll(ctx context.Context, wins []window, known []int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.opt.Concurrency, 1))
	for i, win := range wins {
		want := -1
		if known != nil {
			want = known[i]
		}
		g.Go(func() error {
			t, err := c.countWindow(gctx, win, want, false)
			if err != nil {
				return err
			}
			return c.narrow(gctx, t)
		})
	}
	return g.Wait()
}

// windowCount is a window counted on both sides: got in the CRM (-1: its
// answer said no total), want in the checkpoint (less the customers the
// pull saw elsewhere); page is the count's answer when it was asked with
// a whole page (the first page of the window's read; nil otherwise), and
// whole says that it holds every customer of the window.
type windowCount struct {
	w         window
	got, want int
	page      *crm.Page
	whole     bool
}

// countWindow counts w in the CRM and in the checkpoint (known: the
// checkpoint's count when already known, else -1). A window that may be
// read (small, and known to differ: withPage) is asked with a whole page,
// so that the count's answer is its read.
func (c *counter) countWindow(ctx context.Context, w window, known int, withPage bool) (windowCount, error) {
	if known < 0 {
		n, err := c.cp.CountKnown(ctx, w.lo, w.hi)
		if err != nil {
			return windowCount{}, fmt.Errorf("count the checkpoint %s: %w", w, err)
		}
		known = n
	}
	t := windowCount{w: w, want: known - c.moved(w)}
	size := 1
	if withPage && known <= c.pageSize() {
		size = c.pageSize()
	}
	page, err := c.crmCount(ctx, w, size)
	if err != nil {
		return windowCount{}, err
	}
	t.got = page.Paging.Total
	if page.Paging.Total == 0 && page.Len() > 0 {
		t.got = -1
	}
	if size > 1 {
		t.page = page
		t.whole = t.got >= 0 && t.got == page.Len() && !page.More(c.query(w, size))
	}
	c.mu.Lock()
	c.res.Windows++
	c.mu.Unlock()
	return t, nil
}

// narrow finds what differs in a counted window: nothing when the counts
// agree; else the window's customers are compared when its count's answer
// held them all, it is read when that costs no more than narrowing it or
// when it cannot be cut, and
// otherwise cut in two at its known median: the first half is counted,
// the second half's counts are the window's less the first's.
func (c *counter) narrow(ctx context.Context, t windowCount) error {
	if t.got == t.want {
		return nil
	}
	if t.whole {
		c.unreadable(t.page.Unreadable)
		return c.compareKnown(ctx, t.w, t.page.Data)
	}
	mid, ok := c.middle(ctx, t.w)
	if !ok || c.cheaperToRead(t) {
		return c.read(ctx, t.w, t.page)
	}
	first, err := c.countWindow(ctx, window{lo: t.w.lo, hi: mid}, -1, true)
	if err != nil {
		return err
	}
	rest := windowCount{w: window{lo: mid, hi: t.w.hi}, got: t.got - first.got, want: t.want - first.want}
	if t.got < 0 || first.got < 0 { // no totals: the rest is counted too
		if rest, err = c.countWindow(ctx, rest.w, -1, true); err != nil {
			return err
		}
	}
	if err := c.narrow(ctx, first); err != nil {
		return err
	}
	return c.narrow(ctx, rest)
}

// cheaperToRead reports a window that is read rather than narrowed: one
// of a page, or one whose pages cost no more than half of what narrowing
// costs when the customers that differ (at least |got - want|) are spread
// out, about log2(pages)+1 each. Close together (the hand work of one
// moment), they cost about that once, so a few are narrowed; many (a bulk
// edit) are read. Without a total, only a window of one page is read.
func (c *counter) cheaperToRead(t windowCount) bool {
	pages := (max(t.got, t.want) + c.pageSize() - 1) / c.pageSize()
	if pages <= 1 {
		return true
	}
	if t.got < 0 {
		return false
	}
	differ := max(t.got-t.want, t.want-t.got)
	return 2*pages <= differ*bits.Len(uint(pages))
}

func (c *counter) pageSize() int {
	if c.opt.PageSize > 0 {
		return c.opt.PageSize
	}
	return 100
}

// moved counts the known customers of w that the pull saw elsewhere.
func (c *counter) moved(w window) int {
	n := 0
	for _, t := range c.opt.Moved {
		if !t.Before(w.lo) && t.Before(w.hi) {
			n++
		}
	}
	return n
}

// middle is a time strictly inside w splitting its known customers in
// halves, or its middle second; ok is false when there is none.
func (c *counter) middle(ctx context.Context, w window) (time.Time, bool) {
	mid, err := c.cp.MedianKnown(ctx, w.lo, w.hi)
	if err != nil || !mid.After(w.lo) || !mid.Before(w.hi) {
		lo := w.lo
		if lo.IsZero() {
			lo = time.Unix(0, 0).UTC()
		}
		mid = second(lo.Add(w.hi.Sub(lo) / 2))
	}
	return mid, mid.After(w.lo) && mid.Before(w.hi)
}

// query is the list query of a window, sorted as the refresh's walk is
// (a server indexes it).
func (c *counter) query(w window, size int) crm.ListQuery {
	return crm.ListQuery{Sort: "lastUpdated", Order: "asc", Max: size, LastUpdatedGte: w.lo, LastUpdatedLt: w.hi}
}

// crmCount asks the CRM how many customers w holds, with a page of size.
func (c *counter) crmCount(ctx context.Context, w window, size int) (*crm.Page, error) {
	c.requests.Add(1)
	page, err := c.api.ListPage(ctx, c.query(w, size))
	if err != nil {
		return nil, fmt.Errorf("count the CRM's customers of %s: %w", w, err)
	}
	return page, nil
}

// read reads every customer of w and compares them with the known ones:
// those the checkpoint does not know as they are arrived; the known ones
// not there are missing (gone, or moved: confirm tells). first, when
// given, is the window's first page, already answered.
func (c *counter) read(ctx context.Context, w window, first *crm.Page) error {
	var got []crm.Customer
	q := c.query(w, c.pageSize()) // the size narrowing's costs are reckoned in
	guard := crm.Progress{Walk: "read the CRM's customers of " + w.String()}
	for page := first; ; page = nil {
		var err error
		if page == nil {
			c.requests.Add(1)
			page, err = c.api.ListPage(ctx, q)
		}
		if err == nil {
			err = guard.Check(q, page)
		}
		if err != nil {
			return fmt.Errorf("read the CRM's customers of %s: %w", w, err)
		}
		got = append(got, page.Data...)
		c.unreadable(page.Unreadable)
		if !page.More(q) {
			break
		}
		q.Offset += page.Len()
	}
	return c.compareKnown(ctx, w, got)
}

// compareKnown compares the customers read of w with the known ones.
func (c *counter) compareKnown(ctx context.Context, w window, got []crm.Customer) error {
	known, err := c.cp.KnownIn(ctx, w.lo, w.hi)
	if err != nil {
		return fmt.Errorf("read the checkpoint %s: %w", w, err)
	}
	c.compare(got, known)
	return nil
}

// keyOf is a customer's key: its reference, or its id when it has none.
func keyOf(ref string, id int64) string {
	if ref == "" {
		return fmt.Sprintf("#%d", id)
	}
	return ref
}

// compare sorts a window's customers into arrived and missing.
func (c *counter) compare(got []crm.Customer, known []state.Known) {
	byKey := make(map[string]state.Known, len(known))
	for _, k := range known {
		byKey[keyOf(k.Reference, k.CRMID)] = k
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Read++
	for _, bad := range c.res.Unreadable { // present, though unreadable: not missing
		delete(byKey, keyOf(bad.Reference, bad.ID))
	}
	for _, cu := range got {
		key := keyOf(cu.Reference, cu.ID)
		k, ok := byKey[key]
		delete(byKey, key)
		if ok && k.LastUpdated.Equal(cu.LastUpdated.Time) && (k.CRMID == cu.ID || k.CRMID == 0) {
			continue
		}
		c.res.Arrived = append(c.res.Arrived, cu)
		c.arrived[key] = true
	}
	for key, k := range byKey {
		if !c.opt.Pulled[key] {
			c.missing[key] = k
		}
	}
}

// confirm asks the CRM, by reference, for each known customer missing
// from its window and seen nowhere else: one not found is gone, one found
// moved (and arrived).
func (c *counter) confirm(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.opt.Concurrency, 1))
	for key, k := range c.missing {
		if c.arrived[key] {
			continue
		}
		g.Go(func() error { return c.confirmOne(gctx, k) })
	}
	return g.Wait()
}

func (c *counter) confirmOne(ctx context.Context, k state.Known) error {
	if k.Reference == "" { // nothing to ask by: an unmanaged customer without reference left its window
		c.gone(k)
		return nil
	}
	c.requests.Add(1)
	cu, err := c.api.ShowByReference(ctx, k.Reference)
	switch {
	case crm.IsNotFound(err):
		c.gone(k)
		return nil
	case errors.As(err, new(*crm.DecodeError)):
		// There, but shaped so that it cannot be read: reported, not gone.
		c.unreadable([]*crm.RecordError{{ID: k.CRMID, Reference: k.Reference, Err: err}})
		return nil
	case err != nil:
		return fmt.Errorf("look for %s in the CRM: %w", k.Reference, err)
	}
	c.mu.Lock()
	c.res.Arrived = append(c.res.Arrived, *cu)
	c.mu.Unlock()
	return nil
}

// unreadable keeps records that could not be read.
func (c *counter) unreadable(bad []*crm.RecordError) {
	if len(bad) == 0 {
		return
	}
	c.mu.Lock()
	c.res.Unreadable = append(c.res.Unreadable, bad...)
	c.mu.Unlock()
}

func (c *counter) gone(k state.Known) {
	c.mu.Lock()
	c.res.Gone = append(c.res.Gone, k)
	c.mu.Unlock()
}
