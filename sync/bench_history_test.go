package sync_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/history"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
)

// BenchmarkNightlyHistory1M is the nightly run of 1,000,000 customers
// with 1% changed (day 2 against the checkpoint of day 1: plan, then
// every write sent to crmsim over loopback, its outcome recorded by a
// checkpoint's writer as the engine's apply does), with the customers'
// history off and on, alternately in each iteration. On, every write
// answered carries its event to the writer (history.Recorder, as the
// engine's apply does: state.Outcome.History), saved in the outcomes'
// batches, and the run's end prunes the history (prune-ns/op: that end
// alone). The outcomes go to a checkpoint of their own (the day-1 one is
// the benchmarks' and stays as it is), history table included. The arms
// alternate which runs first. Issue 24 §2: on ≤ 1.05× off ("x-off").
func BenchmarkNightlyHistory1M(b *testing.B) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	_, day2, db := day1Checkpoint(b, m)
	ts := httptest.NewServer(crmsim.NewDefault())
	defer ts.Close()
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	out := sqlite.NewDB(filepath.Join(b.TempDir(), "outcomes.db")) // the outcomes and the history, beside a checkpoint the benchmarks share
	if err := out.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var off, on, pruned time.Duration
	pairs := make([]float64, 0, b.N)
	// Each arm runs under a pprof label (arm=on, arm=off): with
	// -cpuprofile, `go tool pprof -tags -tagfocus arm=on -ignore
	// persistConn` gives an arm's CPU, steadier than its time on a shared
	// machine (the HTTP client's connection goroutines keep the label of
	// the arm that dialed them: left out by -ignore; the writer's
	// goroutine keeps its arm's).
	arm := func(name string, fn func() time.Duration) (d time.Duration) {
		pprof.Do(context.Background(), pprof.Labels("arm", name), func(context.Context) { d = fn() })
		return d
	}
	b.ResetTimer()
	for i := range b.N {
		var dOff, dOn time.Duration
		offArm := func() time.Duration { d, _ := nightly(b, m, day2, db, client, out, 0); return d }
		if i%2 == 1 { // the arms alternate which goes first: neither always follows the other
			dOff = arm("off", offArm)
		}
		dOn = arm("on", func() time.Duration {
			d, end := nightly(b, m, day2, db, client, out, int64(i+1))
			pruned += end
			return d
		})
		if i%2 == 0 {
			dOff = arm("off", offArm)
		}
		off, on = off+dOff, on+dOn
		pairs = append(pairs, float64(dOn)/float64(dOff))
		b.Logf("pair %d: off %v, on %v: %.3f", i, dOff.Round(time.Millisecond), dOn.Round(time.Millisecond), pairs[i])
	}
	b.StopTimer()
	events, err := out.HistoryCount(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(pairs)
	b.ReportMetric(float64(off.Nanoseconds())/float64(b.N), "off-ns/op")
	b.ReportMetric(float64(on.Nanoseconds())/float64(b.N), "on-ns/op")
	b.ReportMetric(float64(pruned.Nanoseconds())/float64(b.N), "prune-ns/op") // the run's end: the history pruned
	b.ReportMetric(float64(on)/float64(off), "x-off")
	b.ReportMetric(pairs[len(pairs)/2], "x-off-median") // of the iterations' pairs: one slow moment weighs one pair
	b.ReportMetric(float64(events)/float64(b.N), "events")
}

// nightly plans day2 against db and sends every action, the outcomes
// recorded in out by its writer; with a runID (not 0), the customers'
// history is on: the outcomes carry the run's events and the run's end
// prunes the history (end: its time), timed with the rest.
func nightly(b testing.TB, m *mapping.Mapping, day2 string, db *sqlite.DB, client *crm.Client, out *sqlite.DB, runID int64) (d, end time.Duration) {
	ctx := context.Background()
	start := time.Now()
	p, err := plan.Build(ctx, sync.PlanRows(ctx, m, day2), db, plan.Options{
		Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 5, IsPercent: true}), DriftPolicy: policy.DriftERPWins,
	})
	if err != nil {
		b.Fatal(err)
	}
	planned := time.Now()
	w := out.NewWriter(500, 250*time.Millisecond)
	var events func(apply.Result) []state.Event
	if runID != 0 {
		rec := history.NewRecorder(0, history.Run{ID: runID, File: day2, At: planned, Drift: p.Drift})
		if err := rec.Start(ctx, w); err != nil {
			b.Fatal(err)
		}
		events = rec.Event
	}
	if _, err := apply.Run(ctx, p, client, w, apply.Options{Concurrency: 8, CountryCode: mapping.CountryCode,
		MaxFailures: plan.Limit{Percent: 100, IsPercent: true},
		Rows:        sync.ExportRows(ctx, m, day2), History: events}); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	applied := time.Now()
	if runID != 0 {
		if _, err := out.SaveHistory(ctx, nil, applied.Add(-time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	end = time.Since(applied)
	b.Logf("history %v: plan %v, apply %v, end %v", runID != 0, planned.Sub(start).Round(time.Millisecond),
		applied.Sub(planned).Round(time.Millisecond), end.Round(time.Millisecond))
	return time.Since(start), end
}

// TestNightlyHistory_Harness runs the benchmark's two arms once on 1,000
// customers (3% changed), so that the benchmark that is too large for
// every test run is known to work: the arm with history records one
// event per write answered, the other none.
func TestNightlyHistory_Harness(t *testing.T) {
	t.Parallel()
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	day1, day2, err := genexport.WriteFiles(dir, genexport.Options{Rows: 1000, Seed: 1, Changed: 0.03, Removed: 0.015, Added: 0.015})
	if err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(filepath.Join(dir, "day1.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := db.NewWriter(1000, time.Second)
	if _, err := m.Read(context.Background(), day1, func(r mapping.Row) error {
		if c := r.Customer; c != nil {
			return w.Put(context.Background(), state.Outcome{Op: "upsert", Reference: c.Reference, Hash: c.Hash, RowSum: c.RowSum,
				Values: c.Fields(), CRMID: int64(c.Line)})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(crmsim.NewDefault())
	defer ts.Close()
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	out := sqlite.NewDB(filepath.Join(dir, "outcomes.db"))
	if err := out.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	nightly(t, m, day2, db, client, out, 0)
	if n, err := out.HistoryCount(context.Background()); err != nil || n != 0 {
		t.Errorf("history off: %d events (%v)", n, err)
	}
	nightly(t, m, day2, db, client, out, 1)
	n, err := out.HistoryCount(context.Background())
	if err != nil || n < 30 || n > 120 {
		t.Errorf("%d events (%v) for 1,000 customers, 3%% changed, 1.5%% added and removed", n, err)
	}
}
