package sync

import (
	"context"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/crm"
)

// refreshed is what a run's refresh of the CRM side saw, remembered once
// the run has finished.
type refreshed struct {
	started time.Time // the next watermark
	drift   []Drift
	seen    []state.Seen
}

// refresh pulls the CRM's changes since the watermark and finds drift.
func refresh(ctx context.Context, j Job) (*refreshed, error) {
	since, err := j.State.Watermark(ctx)
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	pulled, err := Pull(ctx, j.CRM, PullOptions{Since: since, Lookback: j.Settings.Lookback,
		Keep:        func(c crm.Customer) (bool, error) { return MayHaveDrifted(ctx, j.State, c) },
		Concurrency: j.Settings.Concurrency})
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	drift, seen, err := FindDrift(ctx, pulled, j.State, mapping.CountryCode)
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	return &refreshed{drift: drift, seen: seen}, nil
}

// remember stores, after a finished run, what the refresh saw, the next
// watermark and the mapping's fingerprint; runErr is passed on, or the
// failure to remember, which is fatal. A dry run remembers nothing, nor
// does a run that did not finish.
func (r *run) remember(ctx context.Context, runErr error) error {
	if r.j.DryRun || !Finished(runErr) {
		return runErr
	}
	if err := r.saveRefresh(context.WithoutCancel(ctx)); err != nil {
		return WithClass(ClassFatal, err)
	}
	return runErr
}

// saveRefresh moves the watermark and records the CRM copies seen.
//
// An import has no refresh: when no run ever set a watermark, the
// import's start becomes it, so that the next run asks only for what
// changed since (the import's own writes, and hand edits made meanwhile)
// rather than for the whole CRM.
func (r *run) saveRefresh(ctx context.Context) error {
	db := r.j.State
	if r.refreshed == nil {
		mark, err := db.Watermark(ctx)
		if err != nil {
			return err
		}
		if mark.IsZero() {
			if err := db.SetWatermark(ctx, r.started); err != nil {
				return err
			}
		}
		return db.SetFingerprint(ctx, r.j.Mapping.Fingerprint())
	}
	// What the refresh saw of a customer this run then wrote is older
	// than what the writer recorded from the CRM's answer: keep the latter.
	written := map[string]bool{}
	for _, a := range r.out.Plan.Actions() {
		written[a.Reference] = true
	}
	var seen []state.Seen
	for _, s := range r.refreshed.seen {
		if !written[s.Reference] {
			seen = append(seen, s)
		}
	}
	if err := db.SaveSeen(ctx, seen); err != nil {
		return err
	}
	if err := db.SetWatermark(ctx, r.refreshed.started); err != nil {
		return err
	}
	return db.SetFingerprint(ctx, r.j.Mapping.Fingerprint())
}
