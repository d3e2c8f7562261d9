package sync

import (
	"context"

	"erpsync/state"
	"erpsync/sync/refresh"
)

// remember stores, after a finished run, what the refresh saw, the next
// watermark and the mapping's fingerprint; runErr is passed on, or the
// failure to remember, which is fatal. A run that did not finish
// remembers nothing (a dry run's checkpoint drops what it remembers).
func (r *run) remember(ctx context.Context, runErr error) error {
	if !Finished(runErr) {
		return runErr
	}
	if err := r.saveRefresh(context.WithoutCancel(ctx)); err != nil {
		return WithClass(ClassFatal, err)
	}
	return runErr
}

// saveRefresh moves the watermark and records the CRM copies seen and
// what counting found.
func (r *run) saveRefresh(ctx context.Context) error {
	db := r.j.State
	if r.refreshed == nil {
		if err := refresh.SaveImport(ctx, db, r.j.Settings.Lookback); err != nil {
			return err
		}
		return db.SetFingerprint(ctx, r.j.Mapping.Fingerprint())
	}
	// What the refresh saw of a customer this run then wrote is older
	// than what the writer recorded from the CRM's answer: keep the latter.
	written := map[string]bool{}
	for a := range r.out.Plan.All() {
		written[a.Reference] = true
	}
	var seen []state.Seen
	for _, s := range r.refreshed.Seen {
		if !written[s.Reference] {
			seen = append(seen, s)
		}
	}
	if err := db.SaveSeen(ctx, seen); err != nil {
		return err
	}
	if err := r.refreshed.Save(ctx, db, r.j.Settings.Lookback); err != nil {
		return err
	}
	return db.SetFingerprint(ctx, r.j.Mapping.Fingerprint())
}

// lastRunWasNotImport reports whether the newest ended run of the history
// (the one in progress aside) is not an import.
func lastRunWasNotImport(ctx context.Context, db state.RunLog) (bool, error) {
	runs, err := db.Runs(ctx, 2)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if r.Status != state.StatusRunning {
			return r.Kind != string(ModeImport), nil
		}
	}
	return true, nil
}

// refresh reads the CRM side of the run (refresh.Run); what it could not do
// is fatal.
func (r *run) refresh(ctx context.Context) (*refresh.Result, error) {
	j := r.j
	contentCheck, err := lastRunWasNotImport(ctx, j.State)
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	rf, err := refresh.Run(ctx, refresh.Options{CRM: j.CRM, State: j.State, Concurrency: j.Settings.Concurrency,
		FullCheck: j.Settings.FullCheck, Lookback: j.Settings.Lookback, ContentCheck: contentCheck})
	return rf, WithClass(ClassFatal, err)
}
