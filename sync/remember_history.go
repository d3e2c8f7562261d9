package sync

import (
	"context"

	"go.uber.org/zap"

	"erpsync/sync/history"
)

// saveHistory records, at the run's end, the customers' events of the
// run (its writes answered, the drift it found) and prunes those past
// state.history, in one transaction. The history is a trail, not the
// checkpoint's truth: a failure to save it is logged, never the run's.
func (r *run) saveHistory(ctx context.Context) {
	if r.history == nil {
		return
	}
	j := r.j
	run := history.Run{ID: r.out.RunID, File: j.source(), At: j.State.Clock(), Policy: string(j.Settings.Drift)}
	if p := r.out.Plan; p != nil {
		run.Drift, run.RowErrors, run.Deactivate = p.Drift, p.RowErrors, p.Deactivate
	}
	events, dropped := r.history.Events(run)
	pruned, err := j.State.SaveHistory(context.WithoutCancel(ctx), events, run.At.Add(-j.Settings.History))
	if err != nil {
		j.Log.Error("record the customers' history", zap.Error(err))
		return
	}
	if dropped > 0 {
		j.Log.Warn("history: writes past the run's bound not kept", zap.Int("kept", len(events)), zap.Int("dropped", dropped))
	}
	j.Log.Debug("history saved", zap.Int("events", len(events)), zap.Int("pruned", pruned))
}
