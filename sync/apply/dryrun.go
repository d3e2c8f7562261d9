package apply

import (
	"context"

	"erpsync/state"
	"erpsync/sync/crm"
)

// DryRun is the one choke point of a dry run: wrapped at wiring time, the
// CRM's writes and the checkpoint's records go nowhere, while everything
// else (refresh, plan, guards, apply, reports) runs as usual. Reads still
// reach the CRM.
type DryRun struct {
	CRM CRM
}

// Upsert sends nothing and answers the customer as if stored.
func (d DryRun) Upsert(_ context.Context, ref string, _ *crm.Form) (*crm.Customer, error) {
	return &crm.Customer{Reference: ref}, nil
}

// answersUnstored says that Upsert's answers are not what the CRM holds:
// Run does not compare them with what was sent.
func (DryRun) answersUnstored() {}

// ShowByReference reads from the CRM.
func (d DryRun) ShowByReference(ctx context.Context, ref string) (*crm.Customer, error) {
	return d.CRM.ShowByReference(ctx, ref)
}

// DeleteByReferenceStatus sends nothing.
func (d DryRun) DeleteByReferenceStatus(context.Context, string) (int, error) { return 0, nil }

// Discard is a Recorder that records nothing.
type Discard struct{}

// Put drops the outcome.
func (Discard) Put(context.Context, state.Outcome) error { return nil }
