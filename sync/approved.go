package sync

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/approve"
	"erpsync/sync/plan"
	"erpsync/sync/plan/policy"
	"erpsync/sync/report"
)

// A plan you can approve, then apply exactly (issue 23 §4): a job with
// Approvable set builds, beside its plan, what the plan depends on and
// the CRM lastUpdated of each action (Outcome.Approval; plan -out
// .json and serve.approve write it); a job with Approved set checks, once
// it holds the lock, that none of it moved (checkApproved), then sends
// only the approved actions whose customers the CRM has not changed since
// (onlyApproved).

// depends is what a plan of this job depends on now; sha, when set, is
// the export's sha256 already under way (a run's hashBeside), else the
// export is hashed here.
func (j Job) depends(ctx context.Context, sha func() (string, error)) (approve.Depends, error) {
	d := approve.Depends{Config: j.ConfigID, Export: j.File, Mapping: j.Mapping.Fingerprint(),
		Deletes: string(j.Settings.Deletes), Mode: string(j.Settings.Mode)}
	if d.Mode == "" {
		d.Mode = string(policy.ModeSync)
	}
	var err error
	if abs, aerr := filepath.Abs(j.File); aerr == nil {
		d.Export = abs // apply reads it from wherever it runs
	}
	if sha == nil {
		sha = func() (string, error) { return fileSHA256(j.File) }
	}
	if d.ExportSHA, err = sha(); err != nil {
		return d, WithClass(ClassUnusable, fmt.Errorf("hash the export: %w", err))
	}
	runs, err := j.State.Runs(ctx, 1)
	if err != nil {
		return d, WithClass(ClassFatal, err)
	}
	if len(runs) > 0 {
		d.LastRun = runs[0].ID
	}
	if d.Watermark, err = j.State.Watermark(ctx); err != nil {
		return d, WithClass(ClassFatal, err)
	}
	d.Watermark = d.Watermark.UTC()
	return d, nil
}

// checkApproved refuses an approved plan whose export, mapping (with
// sync.fields), sync.deletes, sync.mode or checkpoint moved since it was
// written (exit 3, naming what moved); sha gives the sha256 it compared.
func (j Job) checkApproved(ctx context.Context) (sha func() (string, error), err error) {
	if j.Approved == nil {
		return nil, nil
	}
	if j.Approved.Config != j.ConfigID {
		return nil, &approve.BadPlanError{File: j.Approved.Path(), Why: "it is of another config (another CRM or state file)"}
	}
	now, err := j.depends(ctx, nil)
	if err != nil {
		return nil, err
	}
	return func() (string, error) { return now.ExportSHA, nil }, j.Approved.Moved(now)
}

// approvedGone makes an approved plan's export that is gone a plan that
// moved (exit 3); any other job's error is passed on.
func (j Job) approvedGone(err error) error {
	if j.Approved == nil {
		return err
	}
	return &approve.MovedError{File: j.Approved.Path(), Moved: []string{"the export is gone (" + err.Error() + "; -file names it elsewhere)"}}
}

// crmLastUpdated returns what the CRM's lastUpdated of each managed
// reference is as the run sees it: the refresh's, else the checkpoint's.
func (r *run) crmLastUpdated(ctx context.Context) func(ref string) (*time.Time, error) {
	seen := map[string]time.Time{}
	if r.refreshed != nil {
		for _, s := range r.refreshed.Seen {
			seen[s.Reference] = s.CRMLastUpdated
		}
	}
	return func(ref string) (*time.Time, error) {
		at, ok := seen[ref]
		if !ok {
			var managed bool
			var err error
			if at, managed, err = r.j.State.CRMLastUpdated(ctx, ref); err != nil || !managed {
				return nil, err
			}
		}
		at = at.UTC()
		return &at, nil
	}
}

// approval is the approval of a plan: what it depends on, and for each
// action what it sends and the CRM lastUpdated it was planned against.
func (r *run) approval(ctx context.Context, p *plan.Plan) (*approve.Approval, error) {
	d, err := r.j.depends(ctx, r.sha) // a recorded run hashes its export once
	if err != nil {
		return nil, err
	}
	a := &approve.Approval{Depends: d, Actions: []approve.Action{}}
	lastUpdated, drifted := r.crmLastUpdated(ctx), r.drifted()
	for act := range p.All() {
		x := approve.Action{Op: act.Op, Reference: act.Reference, Hash: actionHash(act), Drifted: drifted[act.Reference]}
		if act.Op == plan.OpCreate { // not managed: the checkpoint has no lastUpdated of it
			a.Actions = append(a.Actions, x)
			continue
		}
		if x.CRMLastUpdated, err = lastUpdated(act.Reference); err != nil {
			return nil, WithClass(ClassFatal, fmt.Errorf("read checkpoint of %s: %w", act.Reference, err))
		}
		a.Actions = append(a.Actions, x)
	}
	return a, nil
}

// actionHash is what an upsert sends, as its content hash; "" for a
// delete.
func actionHash(a *plan.Action) string {
	if a.Op == plan.OpDelete || a.Customer == nil {
		return ""
	}
	return a.Customer.Hash
}

// onlyApproved keeps in the plan the approved actions alone, and of those
// only the ones whose customer's CRM lastUpdated is the one planned
// against. Every other action is listed as not sent (errors.csv), the
// customers the CRM changed since also in summary.json.
func (r *run) onlyApproved(ctx context.Context, p *plan.Plan) error {
	mode := r.j.Settings.ReportsMode
	if mode == 0 {
		mode = report.DefaultMode
	}
	if r.out.Dir != "" { // the record of what was approved
		if err := r.j.Approved.Keep(r.out.Dir, mode); err != nil {
			return WithClass(ClassFatal, err)
		}
	}
	allowed := r.j.Approved.Index()
	lastUpdated, drifted := r.crmLastUpdated(ctx), r.drifted()
	planned := 0            // approved actions this run plans too
	var left []*plan.Action // planned now, not sent
	keep := func(act *plan.Action) (bool, error) {
		x := allowed(act.Op, act.Reference, actionHash(act))
		if x == nil {
			left = append(left, act)
			r.notSentOne(act, "not in the approved plan "+r.j.Approved.Path())
			return false, nil
		}
		planned++
		if act.Op == plan.OpCreate {
			return true, nil
		}
		now, err := lastUpdated(act.Reference)
		if err != nil {
			return false, WithClass(ClassFatal, fmt.Errorf("read checkpoint of %s: %w", act.Reference, err))
		}
		if !sameTime(x.CRMLastUpdated, now) || drifted[act.Reference] && !x.Drifted { // a hand edit in the second of the last push keeps lastUpdated
			left = append(left, act)
			r.summary.MovedInCRM = append(r.summary.MovedInCRM, act.Reference)
			r.j.Log.Warn("skipped: changed in the CRM since the plan was approved", zap.String("reference", act.Reference))
			r.notSentOne(act, fmt.Sprintf("changed in the CRM since the plan was approved (lastUpdated %s, now %s): skipped",
				timeText(x.CRMLastUpdated), timeText(now)))
			return false, nil
		}
		return true, nil
	}
	var err error
	for _, waves := range []*[][]*plan.Action{&p.Upserts, &p.Deletes} {
		for i, w := range *waves {
			if (*waves)[i], err = filterWave(w, keep); err != nil {
				return err
			}
		}
		*waves = slices.DeleteFunc(*waves, func(w []*plan.Action) bool { return len(w) == 0 })
	}
	r.forgetSeen(p)
	if err := r.keepDue(ctx, left); err != nil {
		return err
	}
	r.summary.ApprovedPlan = r.j.Approved.Path()
	if gone := len(r.j.Approved.Actions) - planned; gone > 0 {
		r.j.Log.Warn("approved actions that this run no longer plans (nothing to send for them now)", zap.Int("actions", gone))
	}
	return nil
}

// filterWave keeps the actions of a wave that keep says to.
func filterWave(w []*plan.Action, keep func(*plan.Action) (bool, error)) ([]*plan.Action, error) {
	out := w[:0]
	for _, act := range w {
		ok, err := keep(act)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, act)
		}
	}
	return out, nil
}

// notSentOne lists an action as not sent, with why.
func (r *run) notSentOne(act *plan.Action, why string) {
	if r.report != nil {
		r.report.Add(apply.Result{Action: act, NotSent: "not sent: " + why})
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func timeText(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// forgetSeen drops from what the refresh saw the customers whose action
// the apply left out: not recorded as seen, a hand edit among them stays
// where the next run's refresh finds it again (drift, repaired with
// erp_wins), rather than taken as the CRM's copy.
func (r *run) forgetSeen(p *plan.Plan) {
	if r.refreshed == nil {
		return
	}
	kept := map[string]bool{}
	for act := range p.All() {
		kept[act.Reference] = true
	}
	left := map[string]bool{}
	for _, d := range r.refreshed.Drift {
		if !kept[d.Reference] {
			left[d.Reference] = true
		}
	}
	for _, ref := range r.summary.MovedInCRM {
		left[ref] = true
	}
	r.refreshed.Seen = slices.DeleteFunc(r.refreshed.Seen, func(s state.Seen) bool { return left[s.Reference] })
}

// keepDue records the upserts an apply left out as pending failures: the
// next run sends them again even when the export did not change (a
// repair of a hand edit that its refresh may no longer see), and status
// lists them meanwhile.
func (r *run) keepDue(ctx context.Context, left []*plan.Action) error {
	w := r.j.State.NewWriter(RunBatch, WriterEvery)
	for _, act := range left {
		if act.Op == plan.OpDelete {
			continue // a delete is planned again from the export alone
		}
		f := &state.Failure{Code: "not_approved", Message: "left out by erpsync apply: not in the approved plan, or changed in the CRM since"}
		if err := w.Put(ctx, state.Outcome{RunID: r.out.RunID, Op: state.OpUpsert, Reference: act.Reference, Line: act.Line, Failure: f}); err != nil {
			w.Close()
			return WithClass(ClassFatal, fmt.Errorf("record what apply left out: %w", err))
		}
	}
	if err := w.Close(); err != nil {
		return WithClass(ClassFatal, fmt.Errorf("record what apply left out: %w", err))
	}
	return nil
}

// drifted are the references the refresh found edited in the CRM.
func (r *run) drifted() map[string]bool {
	out := map[string]bool{}
	if r.refreshed != nil {
		for _, d := range r.refreshed.Drift {
			out[d.Reference] = true
		}
	}
	return out
}
