package sync_test

import (
	"context"
	"sync/atomic"
	"testing"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/internal/testrig"
)

// countingCRM stands in front of another CRM and counts the upserts it
// passes on.
type countingCRM struct {
	sync.CRM
	upserts atomic.Int64
}

func (c *countingCRM) Upsert(ctx context.Context, ref string, f *crm.Form) (*crm.Customer, error) {
	c.upserts.Add(1)
	return c.CRM.Upsert(ctx, ref, f)
}

// TestRun_AnyCRM: the engine asks the CRM only through sync.CRM, so a
// wrapper (logging, a fake) can stand where the client stands.
func TestRun_AnyCRM(t *testing.T) {
	job, sim := engineJobOn(t, testrig.Memory, 50, 0)
	front := &countingCRM{CRM: job.CRM}
	job.CRM, job.Mode = front, sync.ModeImport
	_, err := sync.Run(context.Background(), job)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if got, want := front.upserts.Load(), sim.Stats()[crm.OpUpsert]; got != want || got == 0 {
		t.Errorf("the wrapper passed on %d upserts, the CRM got %d", got, want)
	}
}
