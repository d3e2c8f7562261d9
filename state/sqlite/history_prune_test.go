package sqlite_test

import (
	"strconv"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// historyEvents are n events of reference prefix ref, one a minute from
// start, in time order.
func historyEvents(ref string, start time.Time, n int) []state.Event {
	evs := make([]state.Event, 0, n)
	for i := range n {
		evs = append(evs, state.Event{Reference: ref + strconv.Itoa(i%5), RunID: int64(i/50 + 1),
			At: start.Add(time.Duration(i) * time.Minute), Kind: state.EventUpdated, Op: "update"})
	}
	return evs
}

// historyIndexes counts the history table's indexes named name.
func historyIndexes(t *testing.T, db *sqlite.DB, name string) int {
	t.Helper()
	var n int
	if err := rawDB(t, db.Path).QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDB_HistoryPrunedByID: the history has no index on its time (one
// less index to maintain at each save); events before keepSince go,
// those at or after it stay, over saves that left gaps in the ids, and
// a save whose oldest event is within retention removes none.
func TestDB_HistoryPrunedByID(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	db := MustOpenDB(t)
	if n := historyIndexes(t, db, "history_at"); n != 0 {
		t.Errorf("history_at index still there (%d)", n)
	}
	if n := historyIndexes(t, db, "history_reference"); n != 1 {
		t.Errorf("history_reference index gone: `why` needs it")
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := historyEvents("C-", t0, 1000) // minutes 0..999
	for i := 0; i < len(evs); i += 137 {
		if _, err := db.SaveHistory(ctx, evs[i:min(i+137, len(evs))], time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		keepSince   time.Time
		pruned, now int
	}{
		{t0.Add(-time.Hour), 0, 1000},
		{t0.Add(10 * time.Minute), 10, 990},
		{t0.Add(10 * time.Minute), 0, 990},
		{t0.Add(500*time.Minute + 30*time.Second), 491, 499},
		{t0.Add(998 * time.Minute), 497, 2},
		{t0.Add(2000 * time.Minute), 2, 0},
		{t0.Add(3000 * time.Minute), 0, 0},
	}
	for _, c := range cases {
		pruned, err := db.SaveHistory(ctx, nil, c.keepSince)
		if err != nil || pruned != c.pruned {
			t.Fatalf("prune before %v: %d (%v), want %d", c.keepSince, pruned, err, c.pruned)
		}
		if n, err := db.HistoryCount(ctx); err != nil || n != c.now {
			t.Fatalf("after the prune before %v: %d events (%v), want %d", c.keepSince, n, err, c.now)
		}
	}
	// Saved and pruned in one go: the new events, newer than keepSince, stay.
	more := historyEvents("D-", t0.Add(5000*time.Minute), 70)
	if pruned, err := db.SaveHistory(ctx, more, t0.Add(5010*time.Minute)); err != nil || pruned != 0 {
		t.Fatalf("save with prune: %d, %v", pruned, err)
	}
	if pruned, err := db.SaveHistory(ctx, nil, t0.Add(5010*time.Minute)); err != nil || pruned != 10 {
		t.Fatalf("prune of the new events: %d, %v; want 10", pruned, err)
	}
	got, err := db.History(ctx, "D-0")
	if err != nil || len(got) != 12 || got[len(got)-1].At.Before(t0.Add(5010*time.Minute)) {
		t.Fatalf("D-0 after the prune: %d events (%v), oldest %v", len(got), err, got[len(got)-1].At)
	}
}

// TestDB_HistoryMigratedFrom009: a checkpoint written before migration
// 010 keeps its events, readable by reference, and is pruned as a new one.
func TestDB_HistoryMigratedFrom009(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	old := sqlite.NewDB(t.TempDir() + "/erpsync.db")
	old.Now = func() time.Time { return fixedNow }
	sqlite.SetStopBefore(old, "migrations/010")
	if err := old.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if n := historyIndexes(t, old, "history_at"); n != 1 {
		t.Fatalf("a checkpoint of 009 has %d history_at indexes, want 1", n)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := old.SaveHistory(ctx, historyEvents("C-", t0, 200), time.Time{}); err != nil {
		t.Fatal(err)
	}
	db := MustReopenDB(t, old)
	if n := historyIndexes(t, db, "history_at"); n != 0 {
		t.Errorf("history_at index still there after migration 010")
	}
	if n, err := db.HistoryCount(ctx); err != nil || n != 200 {
		t.Fatalf("%d events after migration 010 (%v), want 200", n, err)
	}
	if evs, err := db.History(ctx, "C-3"); err != nil || len(evs) != 40 || !evs[0].At.Equal(t0.Add(198*time.Minute)) {
		t.Fatalf("C-3 after migration 010: %d events (%v)", len(evs), err)
	}
	if pruned, err := db.SaveHistory(ctx, nil, t0.Add(100*time.Minute)); err != nil || pruned != 100 {
		t.Fatalf("prune after migration 010: %d (%v), want 100", pruned, err)
	}
}
