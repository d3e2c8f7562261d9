package sync_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	gosync "sync"
	"testing"
	"time"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// TestPull_ChangesBetweenPages drives crmsim's clock and edits customers
// between the pages of a refresh: none may be skipped, none counted twice,
// and each must come back at its newest version.
func TestPull_ChangesBetweenPages(t *testing.T) {
	var mu gosync.Mutex
	clock := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	tick := func() { mu.Lock(); clock = clock.Add(time.Second); mu.Unlock() }

	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	store.Now = now
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
	sim := crmsim.New(store, crmsim.Options{})
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
	ts := httptest.NewServer(front)
	defer ts.Close()
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}

	res, err := sync.Pull(context.Background(), client, sync.PullOptions{PageSize: 40, Concurrency: 4})
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
	if !res.Newest.Equal(now()) {
		t.Errorf("newest = %s, want %s", res.Newest, now())
	}

	t.Run("since a watermark", func(t *testing.T) {
		since := now().Add(-3 * time.Second)
		res, err := sync.Pull(context.Background(), client, sync.PullOptions{Since: since, PageSize: 40})
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
