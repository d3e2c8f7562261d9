package refresh_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/refresh"
)

// TestListAll_ChangesMeanwhile deletes, creates and edits customers while
// the pages of a listing come in: the listing must still end with exactly
// what the CRM holds, each customer at its newest version.
func TestListAll_ChangesMeanwhile(t *testing.T) {
	t.Run("concurrent pages", func(t *testing.T) { listWhileChanging(t, 4, 3, 6, true) })
	// One page at a time, one deletion of a customer already listed before
	// the third page: the count agrees with the CRM's total (the deleted
	// customer listed, the one shifted past the page boundary missed), so
	// only the pages' overlap can tell.
	t.Run("a deletion that keeps the count", func(t *testing.T) { listWhileChanging(t, 1, 3, 3, false) })
}

// listWhileChanging lists with concurrency while list requests first to
// last delete a customer of the first page and, with more, create one and
// edit one.
func listWhileChanging(t *testing.T, concurrency, first, last int, more bool) {
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	// The customers were last changed a day ago: a pull of what changed
	// since the listing began does not bring them all back.
	store.Now = func() time.Time { return time.Now().Add(-24 * time.Hour) }
	for i := range 1000 {
		if _, err := store.Put(fmt.Sprintf("L-%04d", i), map[string]string{"name": fmt.Sprintf("Customer %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	store.Now = time.Now
	var mu gosync.Mutex
	requests := 0
	deleted, created, edited := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var sim *crmsim.Server // the simulator behind front, once served
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		if n := requests; n >= first && n <= last {
			// A customer near the start goes: every later page shifts.
			del := fmt.Sprintf("L-%04d", n*7)
			if c, ok := store.ByReference(del); ok {
				if err := store.Delete(c.ID); err != nil {
					t.Error(err)
				}
				deleted[del] = true
			}
			if !more {
				mu.Unlock()
				sim.ServeHTTP(w, r)
				return
			}
			add := fmt.Sprintf("NEW-%d", n)
			if _, err := store.Put(add, map[string]string{"name": "New " + add}); err != nil {
				t.Error(err)
			}
			created[add] = true
			ed := fmt.Sprintf("L-%04d", 500+n)
			if _, err := store.Put(ed, map[string]string{"email": fmt.Sprintf("edit%d@example.com", n)}); err != nil {
				t.Error(err)
			}
			edited[ed] = true
		}
		mu.Unlock()
		sim.ServeHTTP(w, r)
	})
	ts := simtest.Serve(t, simtest.Setup{Store: store, Front: func(s *crmsim.Server) http.Handler { sim = s; return front }})
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Concurrency: concurrency})
	if err != nil {
		t.Fatal(err)
	}

	all, listing, err := refresh.ListAll(context.Background(), client, concurrency, 50)
	if err != nil {
		t.Fatal(err)
	}
	want := last - first + 1
	if len(deleted) != want || more && (len(created) != want || len(edited) != want) {
		t.Fatalf("deleted %d, created %d, edited %d customers mid-listing: the test did not exercise the listing", len(deleted), len(created), len(edited))
	}
	if listing.Unsettled {
		t.Errorf("unsettled after the changes stopped: %+v", listing)
	}
	if listing.Rechecks == 0 {
		t.Errorf("no recheck after deletions shifted the pages: %+v", listing)
	}
	if len(all) != store.Len() {
		t.Errorf("listed %d customers, the CRM holds %d", len(all), store.Len())
	}
	seen := map[string]bool{}
	for i, c := range all {
		if i > 0 && c.ID <= all[i-1].ID {
			t.Fatalf("not sorted by id at %d: %d after %d", i, c.ID, all[i-1].ID)
		}
		seen[c.Reference] = true
		want, ok := store.ByReference(c.Reference)
		if !ok {
			t.Errorf("listed %s, which the CRM no longer holds", c.Reference)
			continue
		}
		if c.ID != want.ID || !c.LastUpdated.Equal(want.LastUpdated.Time) {
			t.Errorf("%s listed as id %d at %s, the CRM has id %d at %s", c.Reference, c.ID, c.LastUpdated, want.ID, want.LastUpdated)
		}
	}
	for ref := range created {
		if !seen[ref] {
			t.Errorf("created %s is missing", ref)
		}
	}
	for ref := range deleted {
		if seen[ref] {
			t.Errorf("deleted %s is listed", ref)
		}
	}
}

// TestListAll_ServerCaps lists through servers that cap the page size
// below the 100 asked: every customer, once, in order.
func TestListAll_ServerCaps(t *testing.T) {
	store, _ := seedStore(t, 150, 50)
	for _, cap := range []int{1, 37, 100} {
		t.Run(fmt.Sprintf("cap %d", cap), func(t *testing.T) {
			f := &front{cap: cap}
			all, listing, err := refresh.ListAll(t.Context(), newCRM(t, store, f), 4, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 150 || listing.Customers != 150 || listing.Unsettled || listing.Rechecks != 0 {
				t.Fatalf("listed %d customers, listing %+v; want 150 at once", len(all), listing)
			}
			for i, c := range all {
				if want := fmt.Sprintf("K-%04d", i); c.Reference != want {
					t.Fatalf("customer %d is %s, want %s", i, c.Reference, want)
				}
			}
		})
	}
}

// TestListAll_OffsetIgnored lists a CRM that ignores offset: the listing
// must stop, fatal, within 100 requests.
func TestListAll_OffsetIgnored(t *testing.T) {
	store, _ := seedStore(t, 1000, 0)
	f := &front{cap: 100, ignoreOffset: true}
	_, _, err := refresh.ListAll(t.Context(), newCRM(t, store, f), 4, 0)
	var stalled *crm.StalledError
	if !errors.As(err, &stalled) || !crm.IsFatal(err) {
		t.Fatalf("err = %v, want a fatal *crm.StalledError", err)
	}
	if n := f.lists.Load(); n > 100 {
		t.Errorf("%d requests before stopping, want at most 100", n)
	}
}

// TestListAll_RequestsInFlight lists with a concurrency of 3 while each
// answer is held back a little: the pages are decoded after their
// request's turn, but never more than 3 requests are in flight.
func TestListAll_RequestsInFlight(t *testing.T) {
	store, _ := seedStore(t, 600, 0)
	var inFlight, most atomic.Int64
	ts := simtest.Serve(t, simtest.Setup{Store: store, Front: func(sim *crmsim.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond) // answers overlap
			sim.ServeHTTP(w, r)
		})
	}})
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	all, listing, err := refresh.ListAll(t.Context(), client, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 600 || listing.Unsettled || listing.Rechecks != 0 {
		t.Fatalf("listed %d customers, listing %+v; want 600 at once", len(all), listing)
	}
	for i, c := range all {
		if want := fmt.Sprintf("K-%04d", i); c.Reference != want {
			t.Fatalf("customer %d is %s, want %s", i, c.Reference, want)
		}
	}
	if m := most.Load(); m > 3 {
		t.Errorf("%d requests in flight at once, want at most 3", m)
	}
}
