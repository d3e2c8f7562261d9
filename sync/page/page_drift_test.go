package page_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync/page"
)

// TestPage_DriftFromCheckpoint: the drift on the page is the last ended
// run's, read from the checkpoint's history (drift and hand deletes, not
// the writes that repaired them): a page started after a restart shows
// it before any run; a run still running leaves it; a run that ended
// without drift shows none.
func TestPage_DriftFromCheckpoint(t *testing.T) {
	t.Parallel() // its own folder, checkpoint and server; it shares nothing
	ctx := context.Background()
	dir := t.TempDir()
	db := memstate.New() // RunEvents: the contract suite's, on both checkpoints
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	run := func(events ...state.Event) int64 {
		id, err := db.StartRun(ctx, "run", "inbox/day.csv", "")
		if err != nil {
			t.Fatal(err)
		}
		for i := range events {
			events[i].RunID, events[i].At = id, at
		}
		if _, err := db.SaveHistory(ctx, events, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishRun(ctx, id, state.StatusDone, nil, ""); err != nil {
			t.Fatal(err)
		}
		return id
	}
	run(state.Event{Reference: "C-1004", Kind: state.EventCreated, Op: "create"},
		state.Event{Reference: "C-1006", Kind: state.EventCreated, Op: "create"})
	run(state.Event{Reference: "C-1004", Kind: state.EventDrift, Policy: "erp_wins",
		Changes: []state.FieldChange{{Field: "creditLimit", Old: "99999", New: "12000"}}},
		state.Event{Reference: "C-1006", Kind: state.EventDeletedByHand, Policy: "erp_wins"},
		state.Event{Reference: "C-1004", Kind: state.EventUpdated, Op: "update"},
		state.Event{Reference: "C-2000", Kind: state.EventCreated, Op: "create"})

	mux := http.NewServeMux()
	page.New(page.Source{State: db, ReportsDir: filepath.Join(dir, "reports")}).Register(mux) // a serve just started
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	drift := func() string {
		_, body, _ := get(t, srv.URL+"/")
		_, after, ok := strings.Cut(body, "Drift found by the last run")
		if !ok {
			t.Fatalf("no drift part:\n%s", body)
		}
		return after
	}
	got := drift()
	for _, want := range []string{"(2)", "<td><code>C-1004</code></td><td>creditLimit</td><td>99999</td><td>12000</td>",
		"<code>C-1006</code></td><td colspan=\"3\">deleted by hand in the CRM"} {
		if !strings.Contains(got, want) {
			t.Errorf("the restarted page's drift lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "C-2000") {
		t.Errorf("a write is shown as drift:\n%s", got)
	}
	if _, err := db.StartRun(ctx, "run", "inbox/day3.csv", ""); err != nil { // running: not ended yet
		t.Fatal(err)
	}
	if got := drift(); !strings.Contains(got, "(2)") || !strings.Contains(got, "C-1004") {
		t.Errorf("a run under way hid the last run's drift:\n%s", got)
	}
	if err := db.FinishRun(ctx, 3, state.StatusDone, nil, ""); err != nil {
		t.Fatal(err)
	}
	if got := drift(); !strings.Contains(got, "(3)") || strings.Contains(got, "C-1004") || !strings.Contains(got, "None.") {
		t.Errorf("run 3 found no drift, the page shows:\n%s", got)
	}
}
