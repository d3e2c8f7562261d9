package history

import (
	"context"
	"fmt"

	"erpsync/state"
	"erpsync/sync/plan"
)

// RunEvents is what Drift reads of the checkpoint: a run's first events,
// in the order saved (sqlite.DB.RunEvents).
type RunEvents interface {
	RunEvents(ctx context.Context, runID int64, limit int) ([]state.Event, error)
}

// Drift is the drift a run found, as its refresh saw it (hand edits, with
// the CRM's value as Old and erpsync's as New, and hand deletes): at most
// max customers, read back from the history, where a run saves the drift
// it found before its writes (Recorder.Events). None when the run found
// none, or kept no history (state.history: off).
func Drift(ctx context.Context, src RunEvents, runID int64, max int) ([]plan.Drift, error) {
	events, err := src.RunEvents(ctx, runID, max)
	if err != nil {
		return nil, fmt.Errorf("drift of run %d: %w", runID, err)
	}
	var out []plan.Drift
	for _, e := range events {
		if e.Kind != state.EventDrift && e.Kind != state.EventDeletedByHand {
			break // the run's writes and refused rows follow its drift
		}
		d := plan.Drift{Reference: e.Reference, Deleted: e.Kind == state.EventDeletedByHand}
		for _, c := range e.Changes {
			d.Changes = append(d.Changes, plan.Change{Field: c.Field, Old: c.Old, New: c.New})
		}
		out = append(out, d)
	}
	return out, nil
}
