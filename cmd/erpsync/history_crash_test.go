package main

import (
	"context"
	"testing"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// historyOfRecords counts the checkpoint's records and, by run, their
// create events; a record without exactly one create event is an error.
// TestProcess_KilledRunResumes holds a killed run's history to it (issue
// 24 §2).
func historyOfRecords(t *testing.T, db *sqlite.DB) (int, map[int64]int) {
	t.Helper()
	ctx := context.Background()
	var refs []string
	if err := db.Records(ctx, func(r state.Record) error {
		refs = append(refs, r.Reference)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	created := map[int64]int{}
	missing := 0
	for _, ref := range refs {
		evs, err := db.History(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Kind == state.EventCreated {
				n++
				created[e.RunID]++
			}
		}
		if n != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d records have not exactly one create event", missing, len(refs))
	}
	return len(refs), created
}
