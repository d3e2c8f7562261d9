package sync_test

import (
	"context"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmmem"
	"erpsync/sync/internal/testrig"
)

// streamWatch is the real checkpoint, saying when its hashes first
// stream out (HashHeads: the plan's loader).
type streamWatch struct {
	*sqlite.DB
	once    gosync.Once
	started chan struct{}
}

func (w *streamWatch) HashHeads(ctx context.Context, fn func(ref string, head []byte, raw bool, sum uint64) error) error {
	w.once.Do(func() { close(w.started) })
	return w.DB.HashHeads(ctx, fn)
}

// heldLists is crmsim in-process (crmmem), holding every list request
// until until is closed, at most 10 s (then late is set, and it holds
// no more).
type heldLists struct {
	*crmmem.CRM
	until <-chan struct{}
	late  *atomic.Bool
}

func (h heldLists) ListPage(ctx context.Context, q crm.ListQuery) (*crm.Page, error) {
	if !h.late.Load() {
		select {
		case <-h.until:
		case <-time.After(10 * time.Second):
			h.late.Store(true)
		}
	}
	return h.CRM.ListPage(ctx, q)
}

// TestPlan_CheckpointStreamsBesideRefresh: `plan` starts reading the
// checkpoint's hashes before its refresh asks the CRM anything (issue 25
// §3: at a million customers the refresh mostly waits for the CRM, and the
// load took 1 CPU s after it). crmsim holds every list request until the
// hashes stream, at most 10 s: before, the plan waited that long and the
// stream came after the refresh.
func TestPlan_CheckpointStreamsBesideRefresh(t *testing.T) {
	job, _ := engineJobOn(t, testrig.SQLite, 300, 0)
	job.Mode = sync.ModeImport
	if _, err := sync.Run(context.Background(), job); err != nil {
		t.Fatalf("import: %v", err)
	}
	watch := &streamWatch{DB: job.State.(*sqlite.DB), started: make(chan struct{})}
	var late atomic.Bool
	job.CRM = heldLists{CRM: job.CRM.(*crmmem.CRM), until: watch.started, late: &late}
	job.State, job.Mode = watch, sync.ModePlan
	out, err := sync.Run(context.Background(), job)
	if err != nil || out.Plan == nil {
		t.Fatalf("plan: %v", err)
	}
	if late.Load() {
		t.Error("the refresh asked the CRM before the checkpoint's hashes streamed in")
	}
	if out.Plan.Managed != 300 || out.Plan.Len() != 0 {
		t.Errorf("plan of the imported export: %d managed, %d actions; want 300 and none", out.Plan.Managed, out.Plan.Len())
	}
}
