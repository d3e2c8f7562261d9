package main

import (
	"context"
	"errors"
	"io"

	"erpsync/sync"
	"erpsync/sync/approve"
)

// ApplyCommand sends exactly an approved plan (plan -out FILE.json):
// the engine checks the plan's config and what it depends on, and keeps
// its actions alone (sync/approved.go); this is flags and wiring.
type ApplyCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync apply -config FILE [-file EXPORT] PLAN.json`.
func (c *ApplyCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("apply", c.Stderr)
	file := fs.String("file", "", "the export, when it is no longer where plan read it (its sha256 must be the plan's)")
	if err := fs.Parse(args); err != nil {
		return usage(err)
	}
	if fs.NArg() != 1 {
		return usage(errors.New("apply: name one plan file: erpsync apply -config FILE PLAN.json"))
	}
	approved, err := approve.Read(fs.Arg(0)) // not a plan, or edited: exit 2
	if err != nil {
		return err
	}
	j, done, err := fs.open(ctx, args, jobOptions{state: stateRun, crm: true, notify: sync.ModeRun}) // an apply is a run (its kind in the history): told as one
	if err != nil {
		return err
	}
	defer done()
	if *file != "" {
		approved.Export = *file
	}
	out, err := j.sync(ctx, syncOptions{mode: sync.ModeRun, file: approved.Export, stdout: c.Stdout, stderr: c.Stderr,
		approved: approved})
	j.notifyEnd(ctx, sync.ModeRun, approved.Export, out, err, false)
	return err
}
