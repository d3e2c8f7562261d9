package sync_test

import (
	"context"
	"testing"

	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
)

// TestRun_InMemoryCheckpoint: the engine takes any state.Checkpoint: an
// import then a run on the in-memory one record what the CRM holds, and
// the run history tells both.
func TestRun_InMemoryCheckpoint(t *testing.T) {
	job, sim := engineJob(t, 200, 0)
	day1, day2, err := genexport.WriteFiles(t.TempDir(), genexport.Options{Rows: 200, Seed: 2, Changed: 0.05, Added: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	job.File = day1
	mem := memstate.New()
	t.Cleanup(func() { mem.Close() })
	job.State = mem
	ctx := context.Background()
	job.Mode = sync.ModeImport
	if _, err := sync.Run(ctx, job); err != nil {
		t.Fatalf("import: %v", err)
	}
	job.Mode, job.File = sync.ModeRun, day2
	out, err := sync.Run(ctx, job)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if out.Summary == nil || out.Summary.OK[plan.OpUpdate] == 0 || out.Summary.OK[plan.OpCreate] == 0 {
		t.Errorf("day 2 sent no update or no create: %+v; plan %d actions, %d unchanged, drift %d", out.Summary, out.Plan.Len(), out.Plan.Unchanged, len(out.Plan.Drift))
	}
	// Again: the checkpoint in memory knows all that was sent.
	sim.ResetStats()
	again, err := sync.Run(ctx, job)
	if err != nil || again.Plan.Len() != 0 || sim.Stats()[crm.OpUpsert] != 0 {
		t.Errorf("rerun: %v, %d actions planned, %d upserts; want nothing to send", err, again.Plan.Len(), sim.Stats()[crm.OpUpsert])
	}
	if n, err := mem.Count(ctx); err != nil || n == 0 {
		t.Errorf("in memory: %d records (%v)", n, err)
	}
	runs, err := mem.Runs(ctx, 0)
	if err != nil || len(runs) != 3 || runs[0].Status != state.StatusDone || runs[2].Kind != string(sync.ModeImport) {
		t.Errorf("run history %+v (%v), want the import then two runs, done", runs, err)
	}
}
