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
// every write sent to crmsim over loopback), with the customers' history
// off and on, alternately in each iteration. On, every write answered is
// recorded (history.Recorder, as the engine's Done does) and the run's
// events are saved in one transaction at its end, pruning as they go
// (save-ns/op: that end alone). The arms alternate which runs first.
// Issue 24 §2: on ≤ 1.05× off ("x-off").
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
	hist := state.NewDB(filepath.Join(b.TempDir(), "history.db")) // the history's table, beside a checkpoint the benchmarks share
	if err := hist.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer hist.Close()
	var off, on, saved time.Duration
	var events int
	pairs := make([]float64, 0, b.N)
	// Each arm runs under a pprof label (arm=on, arm=off): with
	// -cpuprofile, `go tool pprof -tags -tagfocus arm=on -ignore
	// persistConn` gives an arm's CPU, steadier than its time on a shared
	// machine (the HTTP client's connection goroutines keep the label of
	// the arm that dialed them: left out by -ignore).
	arm := func(name string, fn func() time.Duration) (d time.Duration) {
		pprof.Do(context.Background(), pprof.Labels("arm", name), func(context.Context) { d = fn() })
		return d
	}
	b.ResetTimer()
	for i := range b.N {
		var dOff, dOn time.Duration
		offArm := func() time.Duration { return nightly(b, m, day2, db, client, nil, nil) }
		if i%2 == 1 { // the arms alternate which goes first: neither always follows the other
			dOff = arm("off", offArm)
		}
		rec := history.NewRecorder(0)
		dOn = arm("on", func() time.Duration {
			return nightly(b, m, day2, db, client, rec, func() {
				start := time.Now()
				evs, _ := rec.Events(history.Run{ID: int64(i + 1), File: day2, At: time.Now()})
				events = len(evs)
				if _, err := hist.SaveHistory(context.Background(), evs, time.Now().Add(-time.Hour)); err != nil {
					b.Fatal(err)
				}
				saved += time.Since(start)
			})
		})
		if i%2 == 0 {
			dOff = arm("off", offArm)
		}
		off, on = off+dOff, on+dOn
		pairs = append(pairs, float64(dOn)/float64(dOff))
		b.Logf("pair %d: off %v, on %v: %.3f", i, dOff.Round(time.Millisecond), dOn.Round(time.Millisecond), pairs[i])
	}
	slices.Sort(pairs)
	b.ReportMetric(float64(off.Nanoseconds())/float64(b.N), "off-ns/op")
	b.ReportMetric(float64(on.Nanoseconds())/float64(b.N), "on-ns/op")
	b.ReportMetric(float64(saved.Nanoseconds())/float64(b.N), "save-ns/op") // the run's end: events gathered and saved
	b.ReportMetric(float64(on)/float64(off), "x-off")
	b.ReportMetric(pairs[len(pairs)/2], "x-off-median") // of the iterations' pairs: one slow moment weighs one pair
	b.ReportMetric(float64(events), "events")
}

// nightly plans day2 against db and sends every action; rec, when not
// nil, is told each result and save runs at the end, timed with the rest.
func nightly(b testing.TB, m *mapping.Mapping, day2 string, db *state.DB, client *crm.Client, rec *history.Recorder, save func()) time.Duration {
	ctx := context.Background()
	start := time.Now()
	p, err := plan.Build(ctx, sync.PlanRows(ctx, m, day2), db, plan.Options{
		Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 5, IsPercent: true}), DriftPolicy: policy.DriftERPWins,
	})
	if err != nil {
		b.Fatal(err)
	}
	planned := time.Now()
	if _, err := apply.Run(ctx, p, client, apply.Discard{}, apply.Options{Concurrency: 8, CountryCode: mapping.CountryCode,
		MaxFailures: plan.Limit{Percent: 100, IsPercent: true},
		Rows:        sync.ExportRows(ctx, m, day2), Done: rec.Add}); err != nil {
		b.Fatal(err)
	}
	applied := time.Now()
	if save != nil {
		save()
	}
	b.Logf("history %v: plan %v, apply %v, save %v", rec != nil, planned.Sub(start).Round(time.Millisecond),
		applied.Sub(planned).Round(time.Millisecond), time.Since(applied).Round(time.Millisecond))
	return time.Since(start)
}

// TestNightlyHistory_Harness runs the benchmark's two arms once on 3,000
// customers (1% changed), so that the benchmark that is too large for
// every test run is known to work: the arm with history records one
// event per write answered, the other none.
func TestNightlyHistory_Harness(t *testing.T) {
	t.Parallel()
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	day1, day2, err := genexport.WriteFiles(dir, genexport.Options{Rows: 3000, Seed: 1, Changed: 0.01, Removed: 0.005, Added: 0.005})
	if err != nil {
		t.Fatal(err)
	}
	db := state.NewDB(filepath.Join(dir, "day1.db"))
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
	nightly(t, m, day2, db, client, nil, nil)
	rec := history.NewRecorder(0)
	nightly(t, m, day2, db, client, rec, nil)
	evs, dropped := rec.Events(history.Run{ID: 1, File: day2, At: time.Now()})
	if len(evs) < 30 || len(evs) > 120 || dropped != 0 {
		t.Errorf("%d events (%d dropped) for 3,000 customers, 1%% changed, 0.5%% added and removed", len(evs), dropped)
	}
}
