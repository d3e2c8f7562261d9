package sync

import (
	"context"

	"go.uber.org/zap"

	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/history"
	"erpsync/sync/plan"
)

// startHistory starts the run's history as its apply starts (Recorder.Start):
// apply.Options.History, nil when the run keeps none (off, or a dry run).
func (r *run) startHistory(ctx context.Context, w *state.Writer, p *plan.Plan) func(apply.Result) []state.Event {
	if r.out.RunID == 0 || r.j.Settings.History <= 0 {
		return nil
	}
	r.history = history.NewRecorder(0, history.RunOf(p, r.out.RunID, r.j.source(), r.j.State.Clock(), string(r.j.Settings.Drift)))
	if err := r.history.Start(ctx, w); err != nil {
		r.j.Log.Error("record the customers' history", zap.Error(err)) // the writer failed: so does the apply
	}
	return r.history.Event
}

// saveHistory ends the run's history (history.End); a failure is logged only.
func (r *run) saveHistory(ctx context.Context) {
	j := r.j
	if j.Settings.History > 0 {
		run := history.RunOf(r.out.Plan, r.out.RunID, j.source(), j.State.Clock(), string(j.Settings.Drift))
		if _, err := history.End(context.WithoutCancel(ctx), j.State, r.history, run, j.Settings.History); err != nil {
			j.Log.Error("record the customers' history", zap.Error(err))
		} else if dropped := r.history.Dropped(); dropped > 0 {
			j.Log.Warn("history: writes past the run's bound not kept", zap.Int("kept", history.DefaultMaxEvents), zap.Int("dropped", dropped))
		}
	}
}
