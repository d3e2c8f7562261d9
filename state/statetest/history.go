package statetest

import (
	"context"
	"reflect"
	"slices"
	"time"

	"erpsync/state"
)

// testHistory: the history keeps what it is given, reads a reference's
// events newest first with every field as saved (times to the second),
// counts them, and prunes those older than the retention at a save.
func testHistory(h *H) {
	t0 := Start
	first := []state.Event{
		{Reference: "C-1", RunID: 1, At: t0, Kind: state.EventCreated, Op: "create", File: "day1.csv", Line: 5,
			Changes: []state.FieldChange{{Field: "name", New: "Acme"}}, Status: 200},
		{Reference: "C-2", RunID: 1, At: t0, Kind: state.EventRefused, Op: "create", File: "day1.csv", Line: 6,
			Status: 400, Answer: "invalid_field: email"},
	}
	if n, err := h.CP.SaveHistory(ctx, first, time.Time{}); err != nil || n != 0 {
		h.Fatalf("save: %d, %v", n, err)
	}
	t1 := t0.Add(24*time.Hour + 500*time.Millisecond)
	second := []state.Event{
		{Reference: "C-1", RunID: 2, At: t1, Kind: state.EventDrift, File: "day2.csv",
			Changes: []state.FieldChange{{Field: "creditLimit", Old: "12500", New: "11500"}}, Policy: "erp_wins"},
		{Reference: "C-1", RunID: 2, At: t1, Kind: state.EventUpdated, Op: "update", File: "day2.csv", Line: 5,
			Changes: []state.FieldChange{{Field: "creditLimit", Old: "12500", New: "11500"}}, Status: 200},
	}
	if _, err := h.CP.SaveHistory(ctx, second, time.Time{}); err != nil {
		h.Fatal(err)
	}
	got, err := h.CP.History(ctx, "C-1")
	if err != nil {
		h.Fatal(err)
	}
	want := []state.Event{second[1], second[0], first[0]}
	for i := range want {
		want[i].At = state.AtSecond(want[i].At)
	}
	for i := range got {
		got[i].ID = 0
	}
	if !reflect.DeepEqual(got, want) {
		h.Errorf("history of C-1:\n got %+v\nwant %+v", got, want)
	}
	if evs, err := h.CP.History(ctx, "NEVER"); err != nil || len(evs) != 0 {
		h.Errorf("history of a reference never seen: %v, %v", evs, err)
	}
	if n, err := h.CP.HistoryCount(ctx); err != nil || n != 4 {
		h.Errorf("count = %d, %v; want 4", n, err)
	}
	// A save prunes what is older than its retention: run 1's events.
	n, err := h.CP.SaveHistory(ctx, nil, t0.Add(time.Hour))
	if err != nil || n != 2 {
		h.Errorf("pruned %d, %v; want 2", n, err)
	}
	if evs, _ := h.CP.History(ctx, "C-2"); len(evs) != 0 {
		h.Errorf("C-2 kept after the prune: %+v", evs)
	}
	if n, _ := h.CP.HistoryCount(ctx); n != 2 {
		h.Errorf("count after the prune = %d, want 2", n)
	}
}

// testHistoryWithOutcomes: the events the writer's outcomes carry
// (Outcome.History), and those put alone before them (PutHistory), are
// saved with the outcomes, in the order put, across batches.
func testHistoryWithOutcomes(h *H) {
	at := state.AtSecond(Start)
	drift := state.Event{Reference: "C-1", RunID: 3, At: at, Kind: state.EventDrift, File: "day3.csv", Policy: "erp_wins",
		Changes: []state.FieldChange{{Field: "name", Old: "Hand", New: "Acme"}}}
	invalid := state.Event{Reference: "C-9", RunID: 3, At: at, Kind: state.EventInvalidRow, File: "day3.csv", Line: 12, Answer: "no name"}
	updated := state.Event{Reference: "C-1", RunID: 3, At: at, Kind: state.EventUpdated, Op: "update", File: "day3.csv", Line: 5,
		Changes: drift.Changes, Status: 200}
	refused := state.Event{Reference: "C-2", RunID: 3, At: at, Kind: state.EventRefused, Op: "create", File: "day3.csv", Line: 6,
		Status: 400, Answer: "invalid_field: email"}
	w := h.CP.NewWriter(2, time.Hour)
	if err := w.PutHistory(ctx, []state.Event{drift, invalid}); err != nil {
		h.Fatal(err)
	}
	for _, o := range []state.Outcome{
		{RunID: 3, Op: state.OpUpsert, Reference: "C-1", Line: 5, Hash: "h1", Values: map[string]string{"name": "Acme"},
			History: []state.Event{updated}},
		{RunID: 3, Op: state.OpUpsert, Reference: "C-2", Line: 6, Failure: &state.Failure{Status: 400, Code: "invalid_field"},
			History: []state.Event{refused}},
		{RunID: 3, Op: state.OpUpsert, Reference: "C-3", Line: 7, Hash: "h3"}, // no event: history off for it
	} {
		if err := w.Put(ctx, o); err != nil {
			h.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		h.Fatal(err)
	}
	for ref, want := range map[string][]state.Event{"C-1": {updated, drift}, "C-2": {refused}, "C-9": {invalid}, "C-3": nil} {
		got, err := h.CP.History(ctx, ref)
		if err != nil {
			h.Fatal(err)
		}
		for i := range got {
			got[i].ID = 0
		}
		if len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
			h.Errorf("history of %s:\n got %+v\nwant %+v", ref, got, want)
		}
	}
	if n, err := h.CP.HistoryCount(ctx); err != nil || n != 4 {
		h.Errorf("count = %d, %v; want 4", n, err)
	}
	if n, err := h.CP.Count(ctx); err != nil || n != 2 {
		h.Errorf("records = %d, %v; want 2 (the history-only item is no outcome)", n, err)
	}
}

// runEvents is what sync/history.Drift reads of a checkpoint.
type runEvents interface {
	RunEvents(ctx context.Context, runID int64, limit int) ([]state.Event, error)
}

// testRunEvents: a run's first events, in the order saved, at most
// limit; none of a run that saved none.
func testRunEvents(h *H) {
	re, ok := h.CP.(runEvents)
	if !ok {
		h.Fatalf("%T has no RunEvents", h.CP)
	}
	at := state.AtSecond(Start)
	ev := func(run int64, ref, kind string) state.Event {
		return state.Event{Reference: ref, RunID: run, At: at, Kind: kind, File: "day.csv"}
	}
	saves := [][]state.Event{
		{ev(1, "C-1", state.EventCreated)},
		{ev(2, "C-9", state.EventDrift), ev(2, "C-3", state.EventDeletedByHand)},
		{ev(2, "C-1", state.EventUpdated)},
		{ev(4, "C-1", state.EventUpdated)},
	}
	for _, s := range saves {
		if _, err := h.CP.SaveHistory(ctx, s, time.Time{}); err != nil {
			h.Fatal(err)
		}
	}
	for _, c := range []struct {
		run   int64
		limit int
		want  []state.Event
	}{
		{2, 10, append(slices.Clone(saves[1]), saves[2]...)},
		{2, 2, saves[1]},
		{1, 10, saves[0]},
		{4, 10, saves[3]},
		{3, 10, nil},
		{5, 10, nil},
	} {
		got, err := re.RunEvents(ctx, c.run, c.limit)
		if err != nil {
			h.Fatal(err)
		}
		for i := range got {
			got[i].ID = 0
		}
		if len(got) != len(c.want) || len(got) > 0 && !reflect.DeepEqual(got, c.want) {
			h.Errorf("RunEvents(%d, %d):\n got %+v\nwant %+v", c.run, c.limit, got, c.want)
		}
	}
}
