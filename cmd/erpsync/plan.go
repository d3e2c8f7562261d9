package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"erpsync/sync"
)

// PlanCommand shows what run would do. It reads the export, the checkpoint
// and the CRM; it writes nothing to the CRM and does not change the state.
type PlanCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync plan -config FILE [-file EXPORT] [-out FILE]`.
func (c *PlanCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("plan", c.Stderr)
	file := fs.String("file", "", "export to plan (default: the newest match of source.path)")
	out := fs.String("out", "", "write every planned operation to this CSV file")
	j, done, err := fs.open(ctx, args, jobOptions{state: true})
	if err != nil {
		return err
	}
	defer done()
	path, err := j.exportPath(*file)
	if err != nil {
		return err
	}
	plan, _, err := j.plan(ctx, path, false)
	var guard *sync.GuardError
	if err != nil && !errors.As(err, &guard) {
		return err
	}
	printPlan(c.Stdout, path, plan, 20)
	if *out != "" {
		if werr := writePlanFile(*out, plan); werr != nil {
			return werr
		}
		fmt.Fprintf(c.Stdout, "Every planned operation: %s\n", *out)
	}
	if guard != nil {
		return &ExitError{Code: ExitGuard, Err: guard}
	}
	if len(plan.RowErrors) > 0 {
		return &ExitError{Code: ExitRowFails, Err: fmt.Errorf("%d rows of %s are invalid", len(plan.RowErrors), path)}
	}
	return nil
}

func writePlanFile(path string, plan *sync.Plan) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	if err := sync.WritePlanCSV(f, plan); err != nil {
		f.Close()
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return f.Close()
}

// plan refreshes from the CRM (read-only) and builds the plan of an
// export. importOnly plans upserts only, without refresh or drift. It
// returns the plan, what the refresh saw (to remember after a run), and a
// *sync.GuardError with the plan when a guard trips.
func (j *job) plan(ctx context.Context, path string, importOnly bool) (*sync.Plan, *refreshed, error) {
	// An unusable file stops here, before the CRM is asked anything.
	if _, err := j.mapping.Check(path); err != nil {
		return nil, nil, &ExitError{Code: ExitUsage, Err: err}
	}
	fingerprint, err := j.db.Fingerprint(ctx)
	if err != nil {
		return nil, nil, &ExitError{Code: ExitFatal, Err: err}
	}
	count, err := j.db.Count(ctx)
	if err != nil {
		return nil, nil, &ExitError{Code: ExitFatal, Err: err}
	}
	opt := sync.PlanOptions{
		File:           path,
		Deletes:        j.cfg.Sync.Deletes,
		MaxDelete:      j.cfg.Sync.MaxDelete,
		DriftPolicy:    j.cfg.Sync.Drift,
		ImportOnly:     importOnly,
		Lean:           importOnly, // an import may be millions of creates: Apply reads them again
		MappingChanged: count > 0 && fingerprint != "" && fingerprint != j.mapping.Fingerprint(),
		ParentInCRM:    j.parentInCRM(ctx),
	}
	var ref *refreshed
	if !importOnly {
		ref = &refreshed{}
		var err error
		if ref.pulled, opt.Drift, ref.seen, err = j.refresh(ctx); err != nil {
			return nil, nil, err
		}
	}
	plan, err := sync.BuildPlan(ctx, j.rows(ctx, path), j.db, opt)
	return plan, ref, err
}

func usageError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &ExitError{Code: ExitUsage, Err: err}
}
