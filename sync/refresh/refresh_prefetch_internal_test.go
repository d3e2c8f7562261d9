package refresh

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync/crm"
)

// TestSighting_PrefetchSameAsOneByOne: a refresh that reads the
// checkpoint's records a page at a time (prefetch) keeps the same
// customers and notes the same moves as one that asks for each customer:
// unchanged ones left out, edited, moved from before the pull's start,
// unknown, and known under another id.
func TestSighting_PrefetchSameAsOneByOne(t *testing.T) {
	ctx := context.Background()
	db := memstate.New()
	defer db.Close()
	from := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	w := db.NewWriter(100, 0)
	var page []crm.Customer
	for i := range 300 {
		ref := fmt.Sprintf("R%03d", i)
		at := from.Add(time.Duration(i%7-3) * time.Minute) // some before the pull's start
		if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: ref, Hash: "h", CRMID: int64(i + 1), CRMLastUpdated: at}); err != nil {
			t.Fatal(err)
		}
		c := crm.Customer{ID: int64(i + 1), Reference: ref, LastUpdated: crm.Time{Time: at}}
		switch i % 5 {
		case 1: // edited since
			c.LastUpdated = crm.Time{Time: from.Add(time.Hour)}
		case 2: // another id: re-created by hand
			c.ID += 1000
		case 3: // not erpsync's
			c.Reference = "HAND-" + ref
		}
		page = append(page, c)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sight := func(prefetch bool) *sighting {
		s := &sighting{ctx: ctx, db: db, from: from, pulled: map[string]bool{}, all: map[string]bool{}}
		for lo := 0; lo < len(page); lo += 100 {
			if prefetch {
				if err := s.prefetch(page[lo : lo+100]); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range page[lo : lo+100] {
				if _, err := s.keep(c); err != nil {
					t.Fatal(err)
				}
			}
		}
		return s
	}
	one, many := sight(false), sight(true)
	if !reflect.DeepEqual(one.pulled, many.pulled) || !reflect.DeepEqual(one.moved, many.moved) || !reflect.DeepEqual(one.all, many.all) {
		t.Errorf("prefetched: %d kept, %d moved; one by one: %d kept, %d moved", len(many.pulled), len(many.moved), len(one.pulled), len(one.moved))
	}
	if len(one.pulled) == 0 || len(one.pulled) == len(page) || len(one.moved) == 0 {
		t.Fatalf("the page does not test what it should: %d of %d kept, %d moved", len(one.pulled), len(page), len(one.moved))
	}
}
