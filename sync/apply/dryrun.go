package apply

import (
	"context"
	"time"

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

// DryRunCheckpoint is the checkpoint of a dry run: it reads through to cp
// and drops every write (outcomes, what a run learned, its marks, its run
// record, whose id is 0: no run). With DryRun, the CRM's wrapper, it
// is the dry run's one choke point: the engine goes the whole path and
// never asks whether it is a dry run. The lock is still taken: a dry run
// reads what a run writes.
func DryRunCheckpoint(cp state.Checkpoint) state.Checkpoint { return dryCheckpoint{cp} }

// dryCheckpoint drops the writes of the Checkpoint it wraps.
type dryCheckpoint struct{ state.Checkpoint }

func (dryCheckpoint) StartRun(context.Context, string, string, string) (int64, error) { return 0, nil }
func (dryCheckpoint) NoteRunSHA(context.Context, int64, string) error                 { return nil }
func (dryCheckpoint) FinishRun(context.Context, int64, string, map[string]int, string) error {
	return nil
}
func (dryCheckpoint) SaveSeen(context.Context, []state.Seen) error      { return nil }
func (dryCheckpoint) SaveCounted(context.Context, state.Counted) error  { return nil }
func (dryCheckpoint) SaveRowSums(context.Context, []state.RowSum) error { return nil }
func (dryCheckpoint) SaveHashes(context.Context, []state.Rehash) error  { return nil }
func (dryCheckpoint) SetWatermark(context.Context, time.Time) error     { return nil }
func (dryCheckpoint) SetVerifiedUntil(context.Context, time.Time) error { return nil }
func (dryCheckpoint) SetFullCheck(context.Context, time.Time) error     { return nil }
func (dryCheckpoint) SetFingerprint(context.Context, string) error      { return nil }
func (dryCheckpoint) SaveHistory(context.Context, []state.Event, time.Time) (int, error) {
	return 0, nil
}

// NewWriter returns a writer that drops every outcome.
func (dryCheckpoint) NewWriter(batch int, every time.Duration) *state.Writer {
	return state.NewBatchWriter(func(context.Context, []state.Outcome) error { return nil }, batch, every)
}

// ReadThrough returns the checkpoint a dry run wraps, for reads that plan
// as the real run would; any other checkpoint is returned as it is.
func ReadThrough(cp state.Checkpoint) state.Checkpoint {
	if d, dry := cp.(dryCheckpoint); dry {
		return d.Checkpoint
	}
	return cp
}
