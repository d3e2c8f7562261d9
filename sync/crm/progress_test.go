package crm_test

import (
	"errors"
	"testing"

	"erpsync/sync/crm"
)

// TestProgress_TotalsNeverShrink feeds a walk pages of new records whose
// total grows as fast as they are read: it must stop after MaxStalls.
func TestProgress_TotalsNeverShrink(t *testing.T) {
	var g crm.Progress
	q := crm.ListQuery{Max: 2}
	for i := range 10 {
		next := "more"
		p := &crm.Page{
			Paging: crm.Paging{Total: 100 + q.Offset, Max: 2, Next: &next},
			Data:   []crm.Customer{{ID: int64(2*i + 1)}, {ID: int64(2*i + 2)}},
		}
		err := g.Check(q, p)
		var stalled *crm.StalledError
		if errors.As(err, &stalled) {
			if i != crm.MaxStalls || !crm.IsFatal(err) {
				t.Fatalf("stopped at page %d (%v), want page %d, fatal", i+1, err, crm.MaxStalls+1)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		q.Offset += 2
	}
	t.Fatal("the walk never stopped")
}

// TestProgress_ShrinkingWalk is a normal walk: it never stops.
func TestProgress_ShrinkingWalk(t *testing.T) {
	var g crm.Progress
	q := crm.ListQuery{Max: 2}
	for i := range 50 {
		p := &crm.Page{Paging: crm.Paging{Total: 100, Max: 2},
			Data: []crm.Customer{{ID: int64(2*i + 1)}, {ID: int64(2*i + 2)}}}
		if err := g.Check(q, p); err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
		q.Offset += 2
	}
}
