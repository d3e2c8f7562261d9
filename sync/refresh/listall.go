package refresh

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"erpsync/sync/crm"
)

// Listing says how the CRM was read.
type Listing struct {
	Customers int     `json:"customers"`
	Pages     int     `json:"pages"`
	Seconds   float64 `json:"seconds"`
	Rechecks  int     `json:"rechecks"` // passes repeated because records changed meanwhile
	// Unsettled says the CRM kept changing through every pass: a change
	// made during the last one may be missing from the comparison.
	Unsettled bool `json:"unsettled,omitempty"`
	// Unreadable counts the records that could not be read, even
	// leniently: they are left out of the listing. UnreadableRecords says
	// which, for the log.
	Unreadable        int                `json:"unreadable,omitempty"`
	UnreadableRecords []*crm.RecordError `json:"-"`
}

// maxListPasses bounds how often a listing is done again.
const maxListPasses = 3

// ListSink receives a pass of a listing: the records in id order as the
// pages are joined, then the records changed meanwhile (newer copies of
// records already added, or records created meanwhile). A new pass
// starts with reset.
type ListSink interface {
	Reset()
	Add(c *crm.Customer)
	Changed(cs map[int64]crm.Customer)
	Len() int
}

// DetachingSink is a ListSink that keeps nothing of the records it is
// handed but Detached copies: its pages are decoded sharing their
// answers' memory (crm.PageAnswer.DecodeShared).
type DetachingSink interface {
	ListSink
	KeepsDetached()
}

// collectSink keeps every customer listed, sorted by id.
type collectSink struct{ all []*crm.Customer }

func (s *collectSink) Reset()                            { s.all = nil }
func (s *collectSink) Add(c *crm.Customer)               { s.all = append(s.all, c) }
func (s *collectSink) Changed(cs map[int64]crm.Customer) { s.all = merge(s.all, cs) }
func (s *collectSink) Len() int                          { return len(s.all) }

// ListAll lists every customer of the CRM, sorted by id, pages fetched
// concurrently. Records created, changed or deleted meanwhile are caught:
// adjacent pages overlap by one record, so that a page shifted by a
// deletion shows; the changes since the start are pulled again; and the
// count must agree with the CRM's total. Otherwise the listing is done
// again (at most three times in all). pageSize is the max asked for (0:
// the client's); the server's answers say what a page really holds.
func ListAll(ctx context.Context, api Lister, concurrency, pageSize int) ([]*crm.Customer, Listing, error) {
	var sink collectSink
	listing, err := ListInto(ctx, api, concurrency, pageSize, &sink)
	if err != nil {
		return nil, listing, err
	}
	return sink.all, listing, nil
}

// ListInto is ListAll with the records handed to sink as the pages come
// in, in id order: what the listing holds at once is a window of pages,
// whatever the CRM's size.
func ListInto(ctx context.Context, api Lister, concurrency, pageSize int, sink ListSink) (Listing, error) {
	if concurrency <= 0 {
		concurrency = 8
	}
	var listing Listing
	for attempt := 1; ; attempt++ {
		pass, err := listOnce(ctx, api, concurrency, pageSize, sink)
		listing.Pages += pass.pages
		if err != nil {
			return listing, err
		}
		if pass.settled || attempt == maxListPasses {
			listing.Customers, listing.Unsettled = sink.Len(), !pass.settled
			listing.Unreadable, listing.UnreadableRecords = len(pass.bad), pass.bad
			return listing, nil
		}
		listing.Rechecks++
	}
}

// listPass is one reading of the whole CRM.
type listPass struct {
	bad     []*crm.RecordError
	pages   int
	whole   bool // the pages overlapped as they should
	settled bool // whole, and the count agrees with the CRM's total
}

// listOnce lists the pages, pulls what changed meanwhile and counts.
func listOnce(ctx context.Context, api Lister, concurrency, pageSize int, sink ListSink) (listPass, error) {
	started := time.Now().Add(-2 * time.Second) // the CRM's clock may have one-second resolution
	sink.Reset()
	pass, err := listPages(ctx, api, concurrency, pageSize, sink)
	if err != nil {
		return pass, err
	}
	// The changes since the start and the count are asked at once, one
	// round trip instead of two: both come after the pages, and a change
	// that either of them sees and the other does not makes the count
	// disagree, whichever was answered first.
	var since *PullResult
	var end *crm.Page
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		since, err = Pull(gctx, api, PullOptions{Since: started, PageSize: pageSize, Concurrency: concurrency})
		return err
	})
	g.Go(func() (err error) {
		// The same order as the pages: a CRM answers it from the same index.
		end, err = api.ListPage(gctx, crm.ListQuery{Sort: "id", Order: "asc", Max: 1})
		if err != nil {
			return fmt.Errorf("count the CRM's customers: %w", err)
		}
		return nil
	})
	err = g.Wait()
	if since != nil {
		pass.pages += since.Pages
	}
	if end != nil {
		pass.pages++
	}
	if err != nil {
		return pass, err
	}
	sink.Changed(since.Customers)
	pass.bad = mergeBad(pass.bad, since.Unreadable)
	pass.settled = pass.whole && sink.Len()+len(pass.bad) == end.Paging.Total
	return pass, nil
}

// listPages fetches the first page, then the others concurrently, each
// starting with the last record of the page before it: pages of the size
// the first answer showed (the server may cap what was asked), that size
// minus one apart. whole is false when a page does not overlap its
// predecessor: records were deleted meanwhile and one may be missing. At
// a page size of one no overlap is possible: then every page must report
// the first page's total. The pages are joined in order as they come.
func listPages(ctx context.Context, api Lister, concurrency, pageSize int, sink ListSink) (listPass, error) {
	q := crm.ListQuery{Sort: "id", Order: "asc", Max: pageSize}
	first, err := api.ListPage(ctx, q)
	if err != nil {
		return listPass{}, fmt.Errorf("list the CRM: %w", err)
	}
	plan := planPages(q, first)
	if g, ok := sink.(interface{ Grow(n int) }); ok {
		g.Grow(plan.total) // room for the whole listing at once
	}
	j := &joiner{plan: plan, sink: sink, overlap: plan.step < plan.q.Max, pass: listPass{whole: true, pages: 1}}
	j.join(first)
	err = fetchPages(ctx, api, plan, first, concurrency, j)
	return j.pass, err
}

// pagePlan is where the pages of a listing start.
type pagePlan struct {
	q     crm.ListQuery // Max is the size the server answers
	step  int           // offset between pages: size-1, or 1 at size 1
	n     int           // pages expected from the first answer's total
	total int
}

// planPages reads the page size and the total from the first answer.
func planPages(q crm.ListQuery, first *crm.Page) pagePlan {
	size := first.Paging.Max
	if size <= 0 {
		size = max(q.Max, first.Len())
	}
	if first.More(q) {
		size = max(min(size, first.Len()), 1) // a page with successors is full
	}
	q.Max = size
	p := pagePlan{q: q, step: max(size-1, 1), n: 1, total: first.Paging.Total}
	if first.More(q) && p.total > size {
		p.n += (p.total - size + p.step - 1) / p.step
	}
	return p
}

// fetchPages fetches the planned pages after the first: the second alone
// (a CRM that ignores offset answers the first page again, and the
// listing stops there), then the others concurrently, then any beyond
// the plan that the last one announces. Each is joined as it comes.
func fetchPages(ctx context.Context, api Lister, plan pagePlan, first *crm.Page, concurrency int, j *joiner) error {
	last := first
	if plan.n > 1 {
		q := plan.q
		q.Offset = plan.step
		second, err := api.ListPage(ctx, q)
		if err != nil {
			return fmt.Errorf("list the CRM, page 2: %w", err)
		}
		j.pass.pages++
		if repeats(first, second) {
			return &crm.StalledError{Walk: "list the CRM", Requests: 2, Reason: "the second page repeated the first"}
		}
		j.join(second)
		last = second
	}
	if plan.n > 2 {
		var err error
		if last, err = fetchWindow(ctx, api, plan, concurrency, j); err != nil {
			return err
		}
	}
	return fetchTail(ctx, api, plan, last, j)
}

// fetchWindow fetches the planned pages from the third on, concurrency
// requests in flight, and joins them in order: a page starts only when
// the page 2×concurrency before it has been joined, so that a slow page
// holds back a bounded number of others. The pages are started by a
// goroutine of their own, as soon as a request's turn is free, whatever
// the join is doing; a request's turn ends as soon as its answer is in
// (the answer is decoded after). It returns the last page.
func fetchWindow(ctx context.Context, api Lister, plan pagePlan, concurrency int, j *joiner) (*crm.Page, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	w := newPageWindow(plan, 2*concurrency)
	turns := newPageTurns(concurrency, j.sink)
	g.Go(func() error {
		w.launch(gctx, g, turns, api)
		return nil
	})
	var last *crm.Page
	for i := 2; i < plan.n; i++ {
		select {
		case last = <-w.done[i%len(w.done)]:
			j.pass.pages++
			j.join(last)
			<-w.ahead
		case <-gctx.Done():
			if err := g.Wait(); err != nil {
				return nil, err
			}
			return nil, ctx.Err()
		}
	}
	return last, g.Wait()
}

// pageWindow is the pages of a listing started and not yet joined.
type pageWindow struct {
	plan  pagePlan
	ahead chan struct{}    // a token per page started and not joined
	done  []chan *crm.Page // page i arrives in done[i%len(done)]
}

func newPageWindow(plan pagePlan, size int) *pageWindow {
	w := &pageWindow{plan: plan, ahead: make(chan struct{}, size), done: make([]chan *crm.Page, size)}
	for i := range w.done {
		w.done[i] = make(chan *crm.Page, 1)
	}
	return w
}

// launch starts the pages from the third on, each when the window has
// room for it and a request's turn is free. Page i reuses the channel
// of page i-size, which has been joined by then (its token was given
// back).
func (w *pageWindow) launch(ctx context.Context, g *errgroup.Group, turns *pageTurns, api Lister) {
	for i := 2; i < w.plan.n; i++ {
		if !take(ctx, w.ahead) || !take(ctx, turns.requests) {
			return
		}
		g.Go(func() error {
			q := w.plan.q
			q.Offset = i * w.plan.step
			p, err := turns.fetch(ctx, api, q)
			if err != nil {
				return fmt.Errorf("list the CRM, page %d: %w", i+1, err)
			}
			w.done[i%len(w.done)] <- p
			return nil
		})
	}
}

// take puts a token into a bounded channel; false when ctx ended first.
func take(ctx context.Context, tokens chan struct{}) bool {
	select {
	case tokens <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// pageFetcher is a Lister that can receive a page and decode it later
// (crm.Client).
type pageFetcher interface {
	FetchPage(ctx context.Context, q crm.ListQuery) (*crm.PageAnswer, error)
	// CompleteParents fills in the parents answered by id alone, as
	// ListPage does.
	CompleteParents(ctx context.Context, cs []crm.Customer) error
}

// pageTurns bounds what a listing does at once: requests in flight
// (the concurrency asked for), and pages being decoded (one fewer than
// the cores the process has, at least one: an answer that arrives is then
// read at once, not after a page's decoding has ended).
type pageTurns struct {
	requests, decodes chan struct{}
	shared            bool // decode sharing the answers' memory
}

func newPageTurns(concurrency int, sink ListSink) *pageTurns {
	_, shared := sink.(DetachingSink)
	return &pageTurns{
		requests: make(chan struct{}, concurrency),
		decodes:  make(chan struct{}, max(runtime.GOMAXPROCS(0)-1, 1)),
		shared:   shared,
	}
}

// fetch fetches a page in the request turn taken for it (by the caller),
// gives the turn back as soon as the answer is in, then decodes it in a
// decoding turn.
func (t *pageTurns) fetch(ctx context.Context, api Lister, q crm.ListQuery) (*crm.Page, error) {
	f, ok := api.(pageFetcher)
	if !ok {
		defer func() { <-t.requests }()
		return api.ListPage(ctx, q)
	}
	a, err := f.FetchPage(ctx, q)
	<-t.requests
	if err != nil {
		return nil, err
	}
	select {
	case t.decodes <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.decodes }()
	decode := a.Decode
	if t.shared {
		decode = a.DecodeShared
	}
	p, err := decode()
	if err != nil {
		return nil, err
	}
	return p, f.CompleteParents(ctx, p.Data)
}

// repeats reports a page holding the same records as the first: sorted by
// id (new records get greater ids), only a server that ignores offset
// answers that.
func repeats(first, p *crm.Page) bool {
	a, b := first.Slots(), p.Slots()
	return len(a) > 0 && len(a) == len(b) && a[0].ID == b[0].ID && a[len(a)-1].ID == b[len(b)-1].ID
}

// fetchTail fetches the pages that follow the planned ones while the last
// says more follow (records created meanwhile, or a total that was low).
func fetchTail(ctx context.Context, api Lister, plan pagePlan, last *crm.Page, j *joiner) error {
	guard := crm.Progress{Walk: "list the CRM"}
	q := plan.q
	q.Offset = (plan.n - 1) * plan.step
	for pages := plan.n; last.More(q); pages++ {
		q.Offset += max(last.Len()-1, 1)
		p, err := api.ListPage(ctx, q)
		if err == nil {
			err = guard.Check(q, p)
		}
		if err != nil {
			return fmt.Errorf("list the CRM, page %d: %w", pages+1, err)
		}
		j.pass.pages++
		j.join(p)
		last = p
	}
	return nil
}

// record is one record of a page, read or not.
type record struct {
	id  int64
	c   *crm.Customer
	bad *crm.RecordError
}

func records(p *crm.Page) []record {
	es := make([]record, 0, p.Len())
	data, bad := p.Data, p.Unreadable
	for i := range p.Len() {
		if len(bad) > 0 && bad[0].Index == i || len(data) == 0 {
			es = append(es, record{id: bad[0].ID, bad: bad[0]})
			bad = bad[1:]
			continue
		}
		es = append(es, record{id: data[0].ID, c: &data[0]})
		data = data[1:]
	}
	return es
}

// joiner puts the pages' records end to end into a sink, dropping the
// overlaps, and says whether they overlapped as planned.
type joiner struct {
	plan    pagePlan
	sink    ListSink
	overlap bool
	prev    []record // the records of the page joined last
	lastID  int64    // of the record added last
	pages   int      // joined
	pass    listPass
}

// join adds the next page.
func (j *joiner) join(p *crm.Page) {
	es := records(p)
	prev := es
	switch {
	case j.pages == 0:
	case !j.overlap:
		j.pass.whole = j.pass.whole && p.Paging.Total == j.plan.total
	case len(j.prev) > 0 && len(es) > 0 && es[0].id != 0 && es[0].id == j.prev[len(j.prev)-1].id:
		es = es[1:] // the overlap
	default:
		j.pass.whole = false
	}
	j.add(es)
	j.prev = prev
	j.pages++
}

// add hands a page's records to the sink; one out of order or seen twice
// means a page moved.
func (j *joiner) add(es []record) {
	for _, e := range es {
		if e.bad != nil {
			j.pass.bad = mergeBad(j.pass.bad, []*crm.RecordError{e.bad})
			continue
		}
		if j.sink.Len() > 0 && e.id <= j.lastID {
			j.pass.whole = false
			continue
		}
		j.sink.Add(e.c)
		j.lastID = e.id
	}
}

// mergeBad adds unreadable records not yet listed (by id; those without
// an id are all kept).
func mergeBad(bad, more []*crm.RecordError) []*crm.RecordError {
	for _, b := range more {
		if b.ID == 0 || !slices.ContainsFunc(bad, func(x *crm.RecordError) bool { return x.ID == b.ID }) {
			bad = append(bad, b)
		}
	}
	return bad
}

// merge puts the customers changed meanwhile into all (sorted by id):
// newer copies replace older ones, new customers are added in order.
func merge(all []*crm.Customer, changed map[int64]crm.Customer) []*crm.Customer {
	sorted := all // the new ones are appended after it
	for id, c := range changed {
		if i, ok := slices.BinarySearchFunc(sorted, id, func(c *crm.Customer, id int64) int { return cmp.Compare(c.ID, id) }); ok {
			all[i] = &c
		} else {
			all = append(all, &c)
		}
	}
	if len(all) > len(sorted) {
		slices.SortFunc(all, func(a, b *crm.Customer) int { return cmp.Compare(a.ID, b.ID) })
	}
	return all
}
