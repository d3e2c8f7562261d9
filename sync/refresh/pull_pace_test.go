package refresh_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"erpsync/sync/refresh"
)

// seedPaced puts n customers in a crmsim store, perSecond in each second
// (a CRM written at a real pace), and returns it.
func seedPaced(t *testing.T, n, perSecond int) *front {
	t.Helper()
	store, _ := seedStore(t, 0, 0)
	clock := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	store.Now = func() time.Time { return clock }
	for i := range n {
		if i > 0 && i%perSecond == 0 {
			clock = clock.Add(time.Second)
		}
		if _, err := store.Put(fmt.Sprintf("K-%04d", i), map[string]string{"name": fmt.Sprintf("Customer %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	f := &front{}
	f.store = store
	return f
}

// TestPull_SpannedSecondsNotReadAgain (issue 25 §2): at a real CRM's
// pace (tens of writes a second) nearly every page boundary falls inside
// a second. Each page asks from the last record seen: while it is still
// there, the offset holds and no second is read again. A pull of 1,000
// customers written 37 a second, in pages of 100, costs its 11 pages
// (99 new records each); reading each page's last second again cost 19.
func TestPull_SpannedSecondsNotReadAgain(t *testing.T) {
	f := seedPaced(t, 1000, 37)
	client := newCRM(t, f.store, f)
	res, err := refresh.Pull(t.Context(), client, refresh.PullOptions{PageSize: 100, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, res, f.store, time.Time{}, false)
	if n := f.lists.Load(); n > 11 {
		t.Errorf("%d list requests for 1,000 customers in pages of 100; want at most 11", n)
	}
}

// TestPull_HandWorkDuringTheWalk: a customer already read deleted while
// the walk pages shifts the records of its second under the offset: the
// next page misses the record it asks from, and that second is read
// again (without it, K-0200 was skipped). A customer created meanwhile
// lands at the end. None is skipped.
func TestPull_HandWorkDuringTheWalk(t *testing.T) {
	for _, hand := range []string{"delete", "create"} {
		t.Run(hand, func(t *testing.T) {
			f := seedPaced(t, 600, 37)
			var n int
			f.before = func(r *http.Request) {
				if r.Method != http.MethodGet {
					return
				}
				if n++; n != 3 {
					return
				}
				if hand == "delete" {
					if err := f.store.DeleteByReference("K-0190"); err != nil { // read by page 2, in the second page 3 starts in
						t.Error(err)
					}
					return
				}
				if _, err := f.store.Put("K-0999", map[string]string{"name": "hand"}); err != nil {
					t.Error(err)
				}
			}
			client := newCRM(t, f.store, f)
			res, err := refresh.Pull(t.Context(), client, refresh.PullOptions{PageSize: 100, Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 600 {
				ref := fmt.Sprintf("K-%04d", i)
				if _, ok := f.store.ByReference(ref); !ok {
					continue
				}
				found := false
				for _, c := range res.Customers {
					if c.Reference == ref {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("%s skipped by the pull", ref)
				}
			}
		})
	}
}
