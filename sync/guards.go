package sync

import (
	"fmt"
	"os"
	"os/user"
	"strings"

	"go.uber.org/zap"

	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
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
	g.MaxDelete = j.maxDelete(true)
	var stop []*guard.Error
	for _, e := range g.Check(p) {
		if !j.Accept[e.Guard] && j.Approved == nil { // an approved plan's guards were its reader's
			stop = append(stop, e)
			continue
		}
		a := guard.AcceptedOf(e, j.acceptedBy())
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
	return &guard.Error{Guard: strings.Join(names, ","), Detail: fmt.Sprintf("%d guards tripped: %s",
		len(stop), strings.Join(details, "; "))}
}

// maxDelete is max_delete as the plan's build (step false) or the guard
// step (true) checks it: Build does, unless the job accepts max_delete;
// then the guard step does, to say it was accepted. The other has it off.
func (j Job) maxDelete(step bool) guard.Optional {
	if accepted := j.Accept[guard.MaxDelete] || j.Approved != nil; accepted != step {
		return guard.Optional{}
	}
	return j.Settings.MaxDelete
}

// acceptedBy is who accepted the guards of this run: AcceptedBy, else the
// user and host running it; with the plan file when it applies one.
func (j Job) acceptedBy() string {
	by := j.AcceptedBy
	if by == "" {
		name := os.Getenv("USER")
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		host, _ := os.Hostname()
		by = name + "@" + host
	}
	if j.Approved != nil {
		by += ", applying " + j.Approved.Path()
	}
	return by
}
