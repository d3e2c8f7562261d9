package refresh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/refresh"
)

// TestPull_ChangesBetweenPages drives crmsim's clock and edits customers
// between the pages of a refresh: none may be skipped, none counted twice,
// and each must come back at its newest version.
func TestPull_ChangesBetweenPages(t *testing.T) {
	var mu gosync.Mutex
	clock := simtest.NewClock(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	tick := func() { clock.Advance(time.Second) }

	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	store.Now = clock.Now
	// 250 customers share one second (a timestamp group wider than a
	// page), then 250 more one second apart.
	for i := range 500 {
		if i >= 250 {
			tick()
		}
		if _, err := store.Put(fmt.Sprintf("P-%03d", i), map[string]string{"name": fmt.Sprintf("Customer %d", i)}); err != nil {
			t.Fatal(err)
		}
	}

	// Before each list request after the first, edit customers that sit in
	// pages already read (and one not yet read): each moves to the end.
	var requests int
	edits := map[string]int{}
	var sim *crmsim.Server // the simulator behind front, once served
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n > 1 && n < 12 {
			tick()
			for _, ref := range []string{fmt.Sprintf("P-%03d", (n*37)%250), fmt.Sprintf("P-%03d", 250+(n*53)%250)} {
				edits[ref]++
				if _, err := store.Put(ref, map[string]string{"email": fmt.Sprintf("edit%d@example.com", n)}); err != nil {
					t.Error(err)
				}
			}
		}
		sim.ServeHTTP(w, r)
	})
	ts := simtest.Serve(t, simtest.Setup{Store: store, Front: func(s *crmsim.Server) http.Handler { sim = s; return front }})
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}

	res, err := refresh.Pull(context.Background(), client, refresh.PullOptions{PageSize: 40, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Customers) != 500 {
		t.Fatalf("pulled %d customers, want 500 (none skipped, none twice)", len(res.Customers))
	}
	for _, c := range res.Customers {
		want, ok := store.ByReference(c.Reference)
		if !ok {
			t.Fatalf("pulled unknown %s", c.Reference)
		}
		if !c.LastUpdated.Equal(want.LastUpdated.Time) {
			t.Errorf("%s pulled at %s, newest is %s", c.Reference, c.LastUpdated, want.LastUpdated)
		}
	}
	if len(edits) < 10 {
		t.Fatalf("only %d customers were edited mid-walk: the test did not exercise the walk", len(edits))
	}
	if !res.Newest.Equal(clock.Now()) {
		t.Errorf("newest = %s, want %s", res.Newest, clock.Now())
	}

	t.Run("since a watermark", func(t *testing.T) {
		since := clock.Now().Add(-3 * time.Second)
		res, err := refresh.Pull(context.Background(), client, refresh.PullOptions{Since: since, PageSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Customers {
			if c.LastUpdated.Before(since) {
				t.Errorf("%s at %s is older than the watermark %s", c.Reference, c.LastUpdated, since)
			}
		}
		if len(res.Customers) == 0 || len(res.Customers) > 8 {
			t.Errorf("pulled %d customers changed in the last 3 seconds, want 1 to 8", len(res.Customers))
		}
	})
}

// front stands before crmsim as a real CRM might: it caps the page size
// (lowering the request's max, so that crmsim answers paging.max
// accordingly), may ignore offset, and may answer lastUpdated with
// milliseconds (a fixed fraction per record, so that a record keeps its
// time between answers). It counts list requests.
type front struct {
	sim          http.Handler
	cap          int
	ignoreOffset bool
	millis       bool
	corrupt      string // a reference whose name is answered as an object
	lists        atomic.Int64
	store        *crmsim.Store         // seedPaced's
	before       func(r *http.Request) // hand work before a request is served
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.before != nil {
		f.before(r)
	}
	q := r.URL.Query()
	if r.Method == http.MethodGet && r.URL.Path == "/api/"+crm.DefaultAPIVersion+"/customers" {
		f.lists.Add(1)
		if n, err := strconv.Atoi(q.Get("max")); f.cap > 0 && (err != nil || n > f.cap) {
			q.Set("max", strconv.Itoa(f.cap))
		}
		if f.ignoreOffset {
			q.Del("offset")
		}
		r.URL.RawQuery = q.Encode()
	}
	if !f.millis && f.corrupt == "" {
		f.sim.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.sim.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		body = f.rewrite(body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// millisOf is the fraction a record's lastUpdated gets.
func millisOf(id int64) time.Duration { return time.Duration(1+id*37%999) * time.Millisecond }

// rewrite adds millisOf(id) to the lastUpdated of every record of a
// list answer, and corrupts the record f.corrupt.
func (f *front) rewrite(body []byte) []byte {
	var page struct {
		Paging json.RawMessage
		Data   []map[string]any
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&page); err != nil || page.Data == nil {
		return body
	}
	for _, c := range page.Data {
		id, _ := c["id"].(json.Number).Int64()
		t, err := time.Parse(crm.TimeLayout, c["lastUpdated"].(string))
		if err == nil && f.millis {
			c["lastUpdated"] = t.Add(millisOf(id)).Format(crm.TimeLayoutMilli)
		}
		if c["reference"] == f.corrupt {
			c["name"] = map[string]any{"first": "Ann"}
		}
	}
	out, _ := json.Marshal(map[string]any{"paging": page.Paging, "data": page.Data})
	return out
}

// newCRM starts crmsim over store behind f and returns a client of it.
func newCRM(t *testing.T, store *crmsim.Store, f *front) *crm.Client {
	t.Helper()
	ts := simtest.Serve(t, simtest.Setup{Store: store, Front: func(sim *crmsim.Server) http.Handler { f.sim = sim; return f }})
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return client
}

// seedStore puts n customers in a crmsim store: the first shared of them
// in one second, then one a second.
func seedStore(t *testing.T, n, shared int) (*crmsim.Store, time.Time) {
	t.Helper()
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	clock := simtest.NewClock(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	store.Now = clock.Now
	for i := range n {
		if i >= shared {
			clock.Advance(time.Second)
		}
		if _, err := store.Put(fmt.Sprintf("K-%04d", i), map[string]string{"name": fmt.Sprintf("Customer %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	return store, clock.Now()
}

// checkPulled compares a pull with the store: every customer changed at
// or after since, each once, at its lastUpdated (with the front's
// milliseconds).
func checkPulled(t *testing.T, res *refresh.PullResult, store *crmsim.Store, since time.Time, millis bool) {
	t.Helper()
	want := 0
	for i := range store.Len() {
		c, ok := store.ByReference(fmt.Sprintf("K-%04d", i))
		if ok && !c.LastUpdated.Before(since) {
			want++
		}
	}
	if len(res.Customers) != want || res.Seen != want {
		t.Errorf("pulled %d customers (seen %d), want %d", len(res.Customers), res.Seen, want)
	}
	for _, c := range res.Customers {
		s, ok := store.ByReference(c.Reference)
		wantAt := s.LastUpdated.Time
		if millis {
			wantAt = wantAt.Add(millisOf(s.ID))
		}
		if !ok || s.ID != c.ID || !c.LastUpdated.Equal(wantAt) {
			t.Errorf("%s pulled as id %d at %s, want id %d at %s", c.Reference, c.ID, c.LastUpdated, s.ID, wantAt)
		}
	}
}

// TestPull_ServerCaps pulls through servers that cap the page size below
// the 100 asked, with whole-second and millisecond timestamps: nothing
// may be missed. The first 110 customers share a second: more than a
// page at every cap.
func TestPull_ServerCaps(t *testing.T) {
	store, last := seedStore(t, 130, 110)
	for _, cap := range []int{1, 37, 100} {
		for _, millis := range []bool{false, true} {
			t.Run(fmt.Sprintf("cap %d millis %v", cap, millis), func(t *testing.T) {
				f := &front{cap: cap, millis: millis}
				client := newCRM(t, store, f)
				res, err := refresh.Pull(t.Context(), client, refresh.PullOptions{Concurrency: 2})
				if err != nil {
					t.Fatal(err)
				}
				checkPulled(t, res, store, time.Time{}, millis)
				if min := int64(130 / cap); f.lists.Load() < min {
					t.Errorf("%d list requests, want at least %d at a cap of %d", f.lists.Load(), min, cap)
				}
				since := last.Add(-10 * time.Second)
				res, err = refresh.Pull(t.Context(), client, refresh.PullOptions{Since: since})
				if err != nil {
					t.Fatal(err)
				}
				checkPulled(t, res, store, since, millis)
			})
		}
	}
}

// TestPull_ThousandsInOneSecond pulls 1,000 customers changed in the same
// second at a cap of 37 (28 pages): the key cannot move, the offset within
// the second must carry the walk.
func TestPull_ThousandsInOneSecond(t *testing.T) {
	store, _ := seedStore(t, 1000, 1000)
	for _, millis := range []bool{false, true} {
		t.Run(fmt.Sprintf("millis %v", millis), func(t *testing.T) {
			f := &front{cap: 37, millis: millis}
			res, err := refresh.Pull(t.Context(), newCRM(t, store, f), refresh.PullOptions{Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			checkPulled(t, res, store, time.Time{}, millis)
		})
	}
}

// TestPull_OffsetIgnored pulls from a CRM that ignores offset: the walk
// must stop, fatal, within 100 requests.
func TestPull_OffsetIgnored(t *testing.T) {
	store, _ := seedStore(t, 300, 300)
	f := &front{cap: 100, ignoreOffset: true}
	_, err := refresh.Pull(t.Context(), newCRM(t, store, f), refresh.PullOptions{})
	var stalled *crm.StalledError
	if !errors.As(err, &stalled) || !crm.IsFatal(err) {
		t.Fatalf("err = %v, want a fatal *crm.StalledError", err)
	}
	if n := f.lists.Load(); n > 100 {
		t.Errorf("%d requests before stopping, want at most 100", n)
	}
}

// TestPull_UnreadableRecord pulls a CRM one of whose records cannot be
// read: it is reported once, the others are pulled.
func TestPull_UnreadableRecord(t *testing.T) {
	store, _ := seedStore(t, 100, 60)
	f := &front{cap: 37, corrupt: "K-0040"}
	res, err := refresh.Pull(t.Context(), newCRM(t, store, f), refresh.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Customers) != 99 {
		t.Errorf("pulled %d customers, want 99", len(res.Customers))
	}
	if len(res.Unreadable) != 1 || res.Unreadable[0].Reference != "K-0040" || res.Unreadable[0].ID == 0 {
		t.Fatalf("unreadable = %v, want K-0040 once", res.Unreadable)
	}
}

// TestPull_CRMMilliseconds pulls from crmsim answering milliseconds (its
// filters compare to the millisecond) and capping pages at 37: 1,000
// customers a few milliseconds apart, hundreds in each second, are each
// seen once at their lastUpdated, from the start and from a watermark in
// the middle of a second, in a bounded number of pages.
func TestPull_CRMMilliseconds(t *testing.T) {
	clock := simtest.Stepping(time.Date(2026, 3, 1, 2, 0, 0, int(time.Millisecond), time.UTC), 3*time.Millisecond)
	f := &front{}
	ts := simtest.Serve(t, simtest.Setup{Options: crmsim.Options{Now: clock.Now, TimePrecision: "ms", MaxPageSize: 37},
		Front: func(sim *crmsim.Server) http.Handler { f.sim = sim; return f }})
	store := ts.Store
	for i := range 1000 {
		if _, err := store.Put(fmt.Sprintf("K-%04d", i), map[string]string{"name": fmt.Sprintf("Customer %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	mid, _ := store.ByReference("K-0500")
	for _, since := range []time.Time{{}, mid.LastUpdated.Time} {
		f.lists.Store(0)
		res, err := refresh.Pull(t.Context(), client, refresh.PullOptions{Since: since, Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		checkPulled(t, res, store, since.Truncate(time.Second), false)
		if n := f.lists.Load(); n > 2*1000/37+10 {
			t.Errorf("since %v: %d list requests for at most 1,000 customers in pages of 37", since, n)
		}
		if res.Newest.Nanosecond() == 0 {
			t.Errorf("newest %v has no milliseconds", res.Newest)
		}
	}
}
