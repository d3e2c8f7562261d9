package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/approve"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/report"
)

// RunCommand is the nightly job: refresh, plan, guards, apply, report.
type RunCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync run -config FILE [-file EXPORT] [-dry-run] [-accept GUARD,..]`.
func (c *RunCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("run", c.Stderr)
	file := fs.String("file", "", "export to sync (default: the newest match of source.path)")
	dryRun := fs.Bool("dry-run", false, "go through the whole path but send no write and record nothing")
	acceptFlag := fs.String("accept", "", "let this run through these guards if they trip: "+strings.Join(guard.Names, ","))
	if err := fs.Parse(args); err != nil {
		return usage(err)
	}
	accept, err := guard.ParseAccept(*acceptFlag)
	if err != nil {
		return usage(err)
	}
	j, done, err := fs.open(ctx, args, jobOptions{state: stateRun, crm: true, file: file, notify: sync.ModeRun, dryRun: dryRun})
	if err != nil {
		return err
	}
	defer done()
	path, err := j.exportPath(ctx, *file)
	if err != nil {
		if !*dryRun { // no export to run: a failed run all the same
			j.notifyEnd(ctx, sync.ModeRun, *file, nil, err, false)
		}
		return err
	}
	out, err := j.sync(ctx, syncOptions{mode: sync.ModeRun, file: path, dryRun: *dryRun, stdout: c.Stdout, stderr: c.Stderr,
		accept: accept})
	if !*dryRun {
		j.notifyEnd(ctx, sync.ModeRun, path, out, err, false)
	}
	return err
}

type syncOptions struct {
	mode   sync.Mode // run | import
	file   string
	dryRun bool
	stdout io.Writer
	stderr io.Writer
	quiet  bool // no plan listing (the demo prints its own)
	// accept: run -accept, the guards this run may go through.
	accept map[string]bool
	// approved is the approved plan an apply sends (apply.go).
	approved *approve.Approval
	// approvable: build the plan's approval (serve.approve).
	approvable bool
	// planned, when set, is told of the plan before it is applied.
	planned func(*plan.Plan)
}

// sync runs the engine on one export, showing its plan, its progress and
// its end.
func (j *job) sync(ctx context.Context, opt syncOptions) (*sync.Outcome, error) {
	unlimit := func() {}
	if opt.mode != sync.ModeImport { // an import sets its own (import.go)
		unlimit = planMemory(ctx, j.db)
		defer unlimit()
	}
	e := j.engine(opt.mode, opt.file)
	e.DryRun = opt.dryRun
	e.Accept, e.Approvable, e.Approved = opt.accept, opt.approvable, opt.approved
	j.stampRun(&e)
	e.OnPlan = func(p *plan.Plan) {
		if p.Len() > bigPlan {
			unlimit()
		}
		if opt.planned != nil {
			opt.planned(p)
		}
		if !opt.quiet {
			report.PrintPlan(opt.stdout, j.exportName(opt.file), p, 10)
		}
	}
	var prog *progress
	e.OnApply = func(total int) func() {
		prog = newProgress(opt.stderr, j.log, total)
		return prog.stop
	}
	e.OnResult = func(r apply.Result) { prog.add(r.Err != nil) }
	out, err := sync.Run(ctx, e)
	if out != nil && out.Summary != nil {
		status, line := out.Status, oneLine(out.Plan, out.Summary)
		if opt.dryRun {
			status = "dry run (nothing sent)"
			line = strings.NewReplacer("created", "would send: create", "updated", "update", "deleted", "delete").Replace(line)
		}
		fmt.Fprintf(opt.stdout, "%s %s: %s — %s; reports in %s\n", opt.mode, status, j.exportName(opt.file), line, out.Dir)
	}
	return out, err
}

func oneLine(p *plan.Plan, s *apply.Summary) string {
	return fmt.Sprintf("created %d, updated %d, deleted %d, unchanged %d, failed %d, invalid rows %d, not sent %d",
		s.OK[plan.OpCreate], s.OK[plan.OpUpdate], s.OK[plan.OpDelete], p.Unchanged,
		s.Failed[plan.OpCreate]+s.Failed[plan.OpUpdate]+s.Failed[plan.OpDelete], p.InvalidRows, s.Skipped)
}
