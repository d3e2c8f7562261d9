package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync"
)

// RunCommand is the nightly job: refresh, plan, guards, apply, report.
type RunCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync run -config FILE [-file EXPORT] [-dry-run]`.
func (c *RunCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("run", c.Stderr)
	file := fs.String("file", "", "export to sync (default: the newest match of source.path)")
	dryRun := fs.Bool("dry-run", false, "go through the whole path but send no write and record nothing")
	j, done, err := fs.open(ctx, args, jobOptions{state: true})
	if err != nil {
		return err
	}
	defer done()
	_, err = j.sync(ctx, syncOptions{kind: "run", file: *file, dryRun: *dryRun, stdout: c.Stdout, stderr: c.Stderr})
	return err
}

// refreshed is what a run's refresh saw, remembered once the run finishes.
type refreshed struct {
	started time.Time // the next watermark
	pulled  *sync.PullResult
	seen    []state.Seen
}

type syncOptions struct {
	kind   string // run | import
	file   string
	dryRun bool
	stdout io.Writer
	stderr io.Writer
	quiet  bool // no plan listing (the demo prints its own)
}

// syncResult is what a finished sync reports.
type syncResult struct {
	plan    *sync.Plan
	summary *sync.Summary
	runID   int64
	dir     string
}

// sync runs one sync or import from start to end, and returns an
// *ExitError with the honest code when it did not finish cleanly.
func (j *job) sync(ctx context.Context, opt syncOptions) (*syncResult, error) {
	lock, err := j.db.Acquire(ctx, opt.kind)
	if err != nil {
		return nil, &ExitError{Code: ExitFatal, Err: err}
	}
	defer func() {
		if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
			j.log.Warn("release state lock", zap.Error(err))
		}
		if lock.Lost() {
			j.log.Error("the state lock was taken from this run while it ran (erpsync unlock -force, or another host after a long silence): check that no other run wrote at the same time")
		}
	}()
	if old := lock.TookOver; old != nil {
		j.log.Warn("took over a stale state lock: its process is gone",
			zap.Int("pid", old.PID), zap.String("kind", old.Kind), zap.Time("since", old.Since))
	}
	path, err := j.exportPath(opt.file)
	if err != nil {
		return nil, err
	}
	sha, err := sync.FileSHA256(path)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	started := time.Now()
	var runID int64
	if !opt.dryRun {
		if runID, err = j.db.StartRun(ctx, opt.kind, path, sha); err != nil {
			return nil, &ExitError{Code: ExitFatal, Err: err}
		}
	}
	res := &syncResult{runID: runID}
	name := strconv.FormatInt(runID, 10)
	if opt.dryRun {
		name = "dry-run-" + started.UTC().Format("20060102T150405Z")
	}
	res.dir = filepath.Join(j.cfg.Reports.Dir, name)
	report, err := sync.NewRunReport(res.dir)
	if err != nil {
		return nil, j.finish(ctx, res, state.StatusFailed, &ExitError{Code: ExitFatal, Err: err})
	}
	summary := sync.RunSummary{RunID: runID, Kind: opt.kind, File: path, Started: started.UTC(),
		DryRun: opt.dryRun, Durations: map[string]float64{}}
	closeReport := func(status string, runErr error) {
		summary.Status, summary.Finished = status, time.Now().UTC()
		if runErr != nil {
			summary.Error = runErr.Error()
		}
		st := j.client.Stats()
		summary.Requests, summary.Retries, summary.Throttled = st.Requests, st.Retries, st.Throttled
		if err := report.Close(summary); err != nil {
			j.log.Error("write reports", zap.Error(err))
		}
	}

	refreshStart := time.Now()
	plan, ref, err := j.plan(ctx, path, opt.kind == "import")
	summary.Durations["plan"] = time.Since(refreshStart).Seconds()
	res.plan = plan
	if plan != nil {
		summary.Unchanged, summary.RowErrors, summary.Drift = plan.Unchanged, len(plan.RowErrors), len(plan.Drift)
		summary.MappingNew = plan.MappingChanged
		for _, e := range plan.RowErrors {
			report.AddRowError(e)
		}
		if !opt.quiet {
			printPlan(opt.stdout, path, plan, 10)
		}
	}
	var guard *sync.GuardError
	if errors.As(err, &guard) {
		err = &ExitError{Code: ExitGuard, Err: err}
		closeReport(state.StatusAborted, err)
		return res, j.finish(ctx, res, state.StatusAborted, err)
	}
	if err != nil {
		closeReport(state.StatusFailed, err)
		return res, j.finish(ctx, res, state.StatusFailed, err)
	}
	if ref != nil {
		ref.started = refreshStart
	}

	// The one choke point of a dry run.
	var api sync.CRM = j.client
	var rec sync.Recorder
	var writer *state.Writer
	if opt.dryRun {
		api, rec = sync.DryRun{CRM: j.client}, sync.Discard{}
	} else {
		writer = j.db.NewWriter(500, 250*time.Millisecond)
		rec = writer
	}
	total := len(plan.Actions())
	prog := newProgress(opt.stderr, j.log, total)
	applyStart := time.Now()
	sum, applyErr := sync.Apply(ctx, plan, api, rec, sync.ApplyOptions{
		RunID: runID, Concurrency: j.cfg.CRM.Concurrency, MaxFailures: j.cfg.Sync.MaxFailures,
		CountryCode: mapping.CountryCode,
		Rows:        j.rows(ctx, path),
		Done: func(r sync.Result) {
			report.Add(r)
			prog.add(r.Err != nil)
		},
	})
	prog.stop()
	summary.Durations["apply"] = time.Since(applyStart).Seconds()
	res.summary = sum
	if writer != nil {
		// Flush even when interrupted: what was acknowledged is recorded.
		if err := writer.Close(); err != nil && applyErr == nil {
			applyErr = &ExitError{Code: ExitFatal, Err: fmt.Errorf("record outcomes: %w", err)}
		}
	}
	summary.Counts = counts(sum)
	summary.Stopped = sum.Stopped

	status, code := state.StatusDone, ExitOK
	switch {
	case errors.As(applyErr, &guard):
		status, code = state.StatusAborted, ExitGuard
	case ctx.Err() != nil:
		status, code = state.StatusInterrupted, ExitFatal
	case applyErr != nil:
		status, code = state.StatusFailed, ExitFatal
	case len(plan.RowErrors) > 0 || sum.Failed[sync.OpCreate]+sum.Failed[sync.OpUpdate]+sum.Failed[sync.OpDelete] > 0:
		status, code = state.StatusDoneFailures, ExitRowFails
	}
	var final error
	if code != ExitOK {
		reason := applyErr
		if reason == nil && ctx.Err() != nil {
			reason = ctx.Err()
		}
		if reason == nil {
			reason = fmt.Errorf("%d rows failed or were invalid; see %s", rowFailures(plan, sum), filepath.Join(res.dir, "errors.csv"))
		}
		final = &ExitError{Code: code, Err: reason}
	}
	// The watermark, the CRM copies seen and the mapping fingerprint move
	// only when the run has finished.
	if !opt.dryRun && (code == ExitOK || code == ExitRowFails) {
		if err := j.remember(context.WithoutCancel(ctx), ref, started, plan); err != nil {
			final = &ExitError{Code: ExitFatal, Err: err}
			status = state.StatusFailed
		}
	}
	closeReport(status, final)
	fmt.Fprintf(opt.stdout, "%s %s: %s — %s; reports in %s\n", opt.kind, status, path, oneLine(plan, sum), res.dir)
	return res, j.finish(ctx, res, status, final)
}

// remember stores, after a finished run, what the refresh saw, the next
// watermark and the mapping's fingerprint. An import has no refresh: when
// no run ever set a watermark, the import's start becomes it, so that the
// next run asks only for what changed since (the import's own writes, and
// hand edits made meanwhile) rather than for the whole CRM.
func (j *job) remember(ctx context.Context, ref *refreshed, started time.Time, plan *sync.Plan) error {
	if ref == nil {
		mark, err := j.db.Watermark(ctx)
		if err != nil {
			return err
		}
		if mark.IsZero() {
			if err := j.db.SetWatermark(ctx, started); err != nil {
				return err
			}
		}
	} else {
		// What the refresh saw of a customer this run then wrote is older
		// than what the writer recorded from the CRM's answer: keep the latter.
		written := map[string]bool{}
		for _, a := range plan.Actions() {
			written[a.Reference] = true
		}
		var seen []state.Seen
		for _, s := range ref.seen {
			if !written[s.Reference] {
				seen = append(seen, s)
			}
		}
		if err := j.db.SaveSeen(ctx, seen); err != nil {
			return err
		}
		if err := j.db.SetWatermark(ctx, ref.started); err != nil {
			return err
		}
	}
	return j.db.SetFingerprint(ctx, j.mapping.Fingerprint())
}

// finish records the run's end (not in a dry run) and passes err on.
func (j *job) finish(ctx context.Context, res *syncResult, status string, err error) error {
	if res.runID == 0 {
		return err
	}
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	var c map[string]int
	if res.summary != nil {
		c = flatCounts(res.summary)
	}
	if res.plan != nil {
		if c == nil {
			c = map[string]int{}
		}
		c["unchanged"], c["row_errors"] = res.plan.Unchanged, len(res.plan.RowErrors)
	}
	if ferr := j.db.FinishRun(context.WithoutCancel(ctx), res.runID, status, c, errText); ferr != nil {
		j.log.Error("record run end", zap.Error(ferr))
	}
	return err
}

func counts(s *sync.Summary) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, op := range []sync.Op{sync.OpCreate, sync.OpUpdate, sync.OpDelete} {
		out[string(op)] = map[string]int{"ok": s.OK[op], "failed": s.Failed[op]}
	}
	out["skipped"] = map[string]int{"not sent": s.Skipped}
	return out
}

func flatCounts(s *sync.Summary) map[string]int {
	out := map[string]int{"skipped": s.Skipped}
	for _, op := range []sync.Op{sync.OpCreate, sync.OpUpdate, sync.OpDelete} {
		out[string(op)] = s.OK[op]
		out[string(op)+"_failed"] = s.Failed[op]
	}
	return out
}

func rowFailures(p *sync.Plan, s *sync.Summary) int {
	return len(p.RowErrors) + s.Failed[sync.OpCreate] + s.Failed[sync.OpUpdate] + s.Failed[sync.OpDelete]
}

func oneLine(p *sync.Plan, s *sync.Summary) string {
	return fmt.Sprintf("created %d, updated %d, deleted %d, unchanged %d, failed %d, invalid rows %d, not sent %d",
		s.OK[sync.OpCreate], s.OK[sync.OpUpdate], s.OK[sync.OpDelete], p.Unchanged,
		s.Failed[sync.OpCreate]+s.Failed[sync.OpUpdate]+s.Failed[sync.OpDelete], len(p.RowErrors), s.Skipped)
}
