package state_test

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"erpsync/state"
)

// TestDB_SaveHistoryBatches: events saved many to a statement (two full
// batches and a rest) are all kept, in the order given, each with its
// own values.
func TestDB_SaveHistoryBatches(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	var evs []state.Event
	for i := range 150 {
		evs = append(evs, state.Event{Reference: "C-" + strconv.Itoa(i%7), RunID: 3, At: at, Kind: state.EventUpdated,
			Op: "update", File: "day2.csv", Line: i + 2, Status: 200, Answer: "a" + strconv.Itoa(i), Policy: "erp_wins",
			Changes: []state.FieldChange{{Field: "name", Old: "old " + strconv.Itoa(i), New: "new " + strconv.Itoa(i)}}})
	}
	if _, err := db.SaveHistory(ctx, evs, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.HistoryCount(ctx); err != nil || n != 150 {
		t.Fatalf("%d events kept (%v), want 150", n, err)
	}
	got, err := db.History(ctx, "C-3")
	if err != nil {
		t.Fatal(err)
	}
	var want []state.Event
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Reference == "C-3" {
			want = append(want, evs[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("C-3: %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.ID = 0
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("C-3's event %d = %+v, want %+v", i, g, want[i])
		}
	}
}
