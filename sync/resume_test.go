package sync_test

import (
	"context"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/internal/testrig"
)

// TestRun_ImportResumesWhereItStopped: an import interrupted part way
// (its context cancelled) has recorded what the CRM acknowledged; the
// next import sends only the rest, each reference once more at most for
// the requests in flight at the cancel, and a run after it has nothing to
// send.
func TestRun_ImportResumesWhereItStopped(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and checkpoints; it waits crmsim's latency
	const rows, stopAfter = 150, 40
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		job, sim := engineJobOn(t, impl, rows, time.Millisecond)
		job.Mode = sync.ModeImport
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var results atomic.Int64
		var once gosync.Once
		first := job
		first.OnResult = func(apply.Result) {
			if results.Add(1) >= stopAfter {
				once.Do(cancel)
			}
		}
		if _, err := sync.Run(ctx, first); sync.Classify(err) != sync.ClassFatal {
			t.Fatalf("interrupted import = %v (class %d), want fatal", err, sync.Classify(err))
		}
		bg := context.Background()
		recorded, err := job.State.Count(bg)
		if err != nil || recorded < stopAfter || recorded >= rows {
			t.Fatalf("after the interrupt: %d records (%v), want %d to %d", recorded, err, stopAfter, rows-1)
		}
		sent := sim.Stats()[crm.OpUpsert]
		if inFlight := sent - int64(recorded); inFlight < 0 || inFlight > int64(2*job.Settings.Concurrency) {
			t.Errorf("%d upserts sent for %d recorded: want at most %d unrecorded (in flight)", sent, recorded, 2*job.Settings.Concurrency)
		}

		sim.ResetStats()
		out, err := sync.Run(bg, job)
		if err != nil {
			t.Fatalf("resumed import: %v", err)
		}
		if out.Plan.Unchanged != recorded || sim.Stats()[crm.OpUpsert] != int64(rows-recorded) {
			t.Errorf("resumed import: %d unchanged, %d upserts; want %d and %d", out.Plan.Unchanged,
				sim.Stats()[crm.OpUpsert], recorded, rows-recorded)
		}
		if n, err := job.State.Count(bg); err != nil || n != rows {
			t.Errorf("after the resume: %d records (%v), want %d", n, err, rows)
		}

		job.Mode = sync.ModeRun
		sim.ResetStats()
		out, err = sync.Run(bg, job)
		if err != nil || out.Plan.Len() != 0 || sim.Stats()[crm.OpUpsert] != 0 {
			t.Errorf("run after the resume: %v, %d actions, %d upserts; want nothing to send", err, out.Plan.Len(), sim.Stats()[crm.OpUpsert])
		}
	})
}
