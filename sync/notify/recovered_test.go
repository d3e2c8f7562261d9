package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync"
	"erpsync/sync/notify"
)

// TestNotifier_RecoveredRule: recovered is told by the first run that goes
// through after a failed one, whatever ran between: an init, guard stops
// (however many); a guard stop alone is no failure to recover from, and a
// run that went through since ends the failure. Over the in-memory
// checkpoint, whose run history the contract suite holds to SQLite's.
func TestNotifier_RecoveredRule(t *testing.T) {
	type rec struct{ kind, status string }
	failed, done := rec{"run", state.StatusFailed}, rec{"run", state.StatusDone}
	guard, initDone := rec{"run", state.StatusAborted}, rec{"init", state.StatusDone}
	cases := []struct {
		name   string
		before []rec
		want   bool
	}{
		{"after a failure", []rec{done, failed}, true},
		{"an init between", []rec{failed, initDone}, true},
		{"guard stops between", []rec{failed, guard, guard, guard, guard}, true},
		{"an interrupted run", []rec{done, {"import", state.StatusInterrupted}}, true},
		{"a guard stop alone", []rec{done, guard}, false},
		{"went through since", []rec{failed, {"import", state.StatusDone}, guard}, false},
		{"first run", nil, false},
		{"after a good run", []rec{failed, done}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := memstate.New()
			defer db.Close()
			for _, r := range append(c.before, done) { // the last: this run
				id, err := db.StartRun(ctx, r.kind, "day.csv", "")
				if err != nil {
					t.Fatal(err)
				}
				if err := db.FinishRun(ctx, id, r.status, nil, ""); err != nil {
					t.Fatal(err)
				}
			}
			got := endEvents(t, db, notify.End{Outcome: &sync.Outcome{RunID: int64(len(c.before) + 1), Status: state.StatusDone}, Kind: "run"})
			if slices.Contains(got, notify.EventRecovered) != c.want {
				t.Errorf("events %v: recovered %v, want %v", got, !c.want, c.want)
			}
		})
	}
}

// endEvents returns the events a receiver subscribed to all got of e.
func endEvents(t *testing.T, runs notify.Runs, e notify.End) []string {
	t.Helper()
	var h hits
	srv := httptest.NewServer(h.handler(func(http.ResponseWriter, *http.Request) {}))
	n, _ := newNotifier(t, notify.Config{Webhooks: []notify.Webhook{{URL: srv.URL + "/hook", Events: notify.AllEvents}}})
	n.RunEnded(context.Background(), runs, e)
	srv.Close()
	var got []string
	for _, b := range h.bodies {
		var m notify.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("body %s: %v", b, err)
		}
		got = append(got, m.Event)
	}
	slices.Sort(got)
	return slices.Compact(got)
}
