package sync_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/adopt"
	"erpsync/sync/crm"
	"erpsync/sync/plan/policy"
)

// TestCount_SurplusDoesNotHideHandDelete: after `init -adopt`, the CRM's
// customers that the export does not list are unknown to the checkpoint
// (the unmanaged table starts empty). One such customer early in the
// verified span must not cancel a hand delete late in it: the span is
// counted in several windows, the one with the surplus is read and its
// customer recorded as unmanaged, and the one with the loss finds the
// delete. The next run with nothing changed costs its pull and at most 3
// counts.
func TestCount_SurplusDoesNotHideHandDelete(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and folder
	const rows, pageSize = 300, 10
	cr := newCountRig(t, rows, pageSize)
	cr.job.Settings.Lookback = 0
	ctx := context.Background()
	cr.handPut(t, "HAND-OLD", "Made by hand before erpsync") // early in the span
	cr.clock.Advance(time.Second)
	cr.do(t, sync.ModeImport, policy.DriftReport)

	// A new checkpoint adopts what the export lists: HAND-OLD is unknown.
	cr.clock.Advance(time.Hour)
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "adopted.db"))
	db.Now = cr.clock.Now
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cr.job.State = db
	if res, err := adopt.Adopt(ctx, cr.job); err != nil || res.Adopted != rows {
		t.Fatalf("adopt: %+v, %v; want %d adopted", res, err, rows)
	}

	// A hand delete late in the span (no sub-customers: the CRM refuses those).
	var deleted string
	for _, ref := range cr.posted[250:290] {
		if cr.store.DeleteByReference(ref) == nil {
			deleted = ref
			break
		}
	}
	if deleted == "" {
		t.Fatal("no customer could be deleted by hand")
	}
	cr.clock.Advance(time.Hour)
	p := cr.do(t, sync.ModeRun, policy.DriftReport)
	if d := driftOf(p)[deleted]; !d.Deleted {
		t.Errorf("hand delete of %s hidden by the customer unknown to the checkpoint: drift %+v", deleted, p.Drift)
	}
	if n, err := db.UnmanagedCount(ctx); err != nil || n != 1 {
		t.Errorf("UnmanagedCount = %d, %v; want 1 (HAND-OLD, found while narrowing)", n, err)
	}

	cr.clock.Advance(time.Hour)
	lists := cr.sim.Stats()[crm.OpList]
	shows := cr.sim.Stats()[crm.OpShowByReference]
	p = cr.do(t, sync.ModeRun, policy.DriftReport)
	got := cr.sim.Stats()[crm.OpList] - lists
	t.Logf("a run with nothing changed: %d list requests", got)
	if got > 1+3 {
		t.Errorf("a run with nothing changed sent %d list requests; want its pull (1) and at most 3 counts", got)
	}
	if got := cr.sim.Stats()[crm.OpShowByReference] - shows; got != 0 {
		t.Errorf("a run with nothing changed looked up %d customers", got)
	}
	if d := driftOf(p); !d[deleted].Deleted || len(d) != 1 {
		t.Errorf("report: want only the hand delete of %s listed, got %+v", deleted, p.Drift)
	}
}
