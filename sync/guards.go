package sync

import (
	"fmt"
	"strings"

	"go.uber.org/zap"

	"erpsync/sync/plan"
)

// guard is the run's guard step (issue 23 §3): the plan's size against
// sync.max_create, max_update, max_blank and max_mapping_change (and
// max_delete, when accepted: Build checks it otherwise). A guard that
// trips stops the run before its first write, unless the job accepts it
// (run -accept): then the run goes on, and its report and log say who
// accepted what. An import is not guarded.
func (r *run) guard(p *plan.Plan) error {
	j := r.j
	if p == nil || j.Mode == ModeImport {
		return nil
	}
	g := j.Settings.Guards
	g.MaxDelete = plan.Limit{Percent: 100, IsPercent: true} // Build checked it, unless accepted:
	if j.Accept[plan.GuardMaxDelete] {
		g.MaxDelete = j.Settings.MaxDelete // then it is checked here, to say it was accepted
	}
	var stop []*plan.GuardError
	for _, e := range g.Check(p) {
		if !j.Accept[e.Guard] {
			stop = append(stop, e)
			continue
		}
		a := plan.Accepted{Guard: e.Guard, Detail: e.Detail, By: j.AcceptedBy}
		r.summary.Accepted = append(r.summary.Accepted, a)
		j.Log.Warn("a guard tripped and was accepted for this run", zap.String("guard", a.Guard),
			zap.String("by", a.By), zap.String("detail", a.Detail))
	}
	switch len(stop) {
	case 0:
		return nil
	case 1:
		return stop[0]
	}
	names, details := make([]string, len(stop)), make([]string, len(stop))
	for i, e := range stop {
		names[i], details[i] = e.Guard, e.Error()
	}
	return &plan.GuardError{Guard: strings.Join(names, ","), Detail: fmt.Sprintf("%d guards tripped: %s",
		len(stop), strings.Join(details, "; "))}
}

// maxDelete is the max_delete the plan is built with: every delete when
// the job accepts max_delete (the guard step then says whether it tripped).
func (j Job) maxDelete() plan.Limit {
	if j.Accept[plan.GuardMaxDelete] {
		return plan.Limit{Percent: 100, IsPercent: true}
	}
	return j.Settings.MaxDelete
}
