package state_test

import (
	"context"
	"encoding/json"
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

// TestEncodeChanges_AsJSONMarshal: the stored changes are the bytes
// json.Marshal writes, for plain values and for every kind it escapes.
func TestEncodeChanges_AsJSONMarshal(t *testing.T) {
	values := []string{"", "Acme", "12500.00", `say "hi"`, `C:\dir`, "<b>&</b>", "Zürich", "東京", "line\nbreak\ttab\r",
		"\x00\x1f\b\f", "bad \xff utf-8", "sep\u2028\u2029", "~ !#$%'()*+,-./:;=?@[]^_`{|}"}
	for _, old := range values {
		for _, new := range values {
			cs := []state.FieldChange{{Field: "name", Old: old, New: new}, {Field: "city", New: new}, {Field: "x<y"}}
			want, err := json.Marshal(cs)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := state.EncodeChanges(cs); err != nil || got != string(want) {
				t.Fatalf("EncodeChanges(%q, %q) = %s, %v; want %s", old, new, got, err, want)
			}
		}
	}
	if got, _ := state.EncodeChanges(nil); got != "" {
		t.Errorf("no changes: %q, want \"\"", got)
	}
}
