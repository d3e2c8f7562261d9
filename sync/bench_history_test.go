package sync_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
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
)

// BenchmarkNightlyHistory1M is the nightly run of 1,000,000 customers
// with 1% changed (day 2 against the checkpoint of day 1: plan, then
// every write sent to crmsim over loopback), with the customers' history
// off and on, alternately in each iteration. On, every write answered is
// recorded (history.Recorder, as the engine's Done does) and the run's
// events are saved in one transaction at its end, pruning as they go.
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
	var off, on time.Duration
	var events int
	b.ResetTimer()
	for i := range b.N {
		off += nightly(b, m, day2, db, client, nil, nil)
		rec := history.NewRecorder(0)
		on += nightly(b, m, day2, db, client, rec, func() {
			evs, _ := rec.Events(history.Run{ID: int64(i + 1), File: day2, At: time.Now()})
			events = len(evs)
			if _, err := hist.SaveHistory(context.Background(), evs, time.Now().Add(-time.Hour)); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.ReportMetric(float64(off.Nanoseconds())/float64(b.N), "off-ns/op")
	b.ReportMetric(float64(on.Nanoseconds())/float64(b.N), "on-ns/op")
	b.ReportMetric(float64(on)/float64(off), "x-off")
	b.ReportMetric(float64(events), "events")
}

// nightly plans day2 against db and sends every action; rec, when not
// nil, is told each result and save runs at the end, timed with the rest.
func nightly(b *testing.B, m *mapping.Mapping, day2 string, db *state.DB, client *crm.Client, rec *history.Recorder, save func()) time.Duration {
	ctx := context.Background()
	start := time.Now()
	p, err := plan.Build(ctx, sync.PlanRows(ctx, m, day2), db, plan.Options{
		Deletes: plan.DeletesMirror, MaxDelete: plan.Limit{Percent: 5, IsPercent: true}, DriftPolicy: plan.DriftERPWins,
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := apply.Run(ctx, p, client, apply.Discard{}, apply.Options{Concurrency: 8, CountryCode: mapping.CountryCode,
		MaxFailures: plan.Limit{Percent: 100, IsPercent: true},
		Rows:        sync.ExportRows(ctx, m, day2), Done: rec.Add}); err != nil {
		b.Fatal(err)
	}
	if save != nil {
		save()
	}
	return time.Since(start)
}
