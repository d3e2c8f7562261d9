package sqlite_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"erpsync/state"
)

// TestDB_RunEvents: a run's first events, in the order saved, found
// among other runs' (some runs saving none, the oldest pruned), for
// every run and at every limit; a run with none, or never saved, has
// none.
func TestDB_RunEvents(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	ctx := context.Background()
	db := MustOpenDB(t)
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	saved := map[int64][]string{}
	for run := int64(1); run <= 40; run++ {
		var evs []state.Event
		for i := range int(run*7) % 11 { // 0 to 10 events a run
			ref := "R" + strconv.FormatInt(run, 10) + "-" + strconv.Itoa(i)
			evs = append(evs, state.Event{Reference: ref, RunID: run, At: at.Add(time.Duration(run) * time.Hour), Kind: state.EventDrift})
			saved[run] = append(saved[run], ref)
		}
		if _, err := db.SaveHistory(ctx, evs, at.Add(5*time.Hour)); err != nil { // prunes runs 1-4
			t.Fatal(err)
		}
	}
	for run := int64(0); run <= 42; run++ {
		want := saved[run]
		if run < 5 {
			want = nil
		}
		for _, limit := range []int{1, 3, 100} {
			got, err := db.RunEvents(ctx, run, limit)
			if err != nil {
				t.Fatal(err)
			}
			n := min(limit, len(want))
			if len(got) != n {
				t.Fatalf("run %d, limit %d: %d events, want %d", run, limit, len(got), n)
			}
			for i, e := range got {
				if e.Reference != want[i] || e.RunID != run {
					t.Errorf("run %d, limit %d: event %d is %s of run %d, want %s", run, limit, i, e.Reference, e.RunID, want[i])
				}
			}
		}
	}
}
