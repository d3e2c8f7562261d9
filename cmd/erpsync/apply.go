package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"erpsync/sync"
	"erpsync/sync/approve"
	"erpsync/sync/plan"
)

// ApplyCommand sends exactly an approved plan (plan -out FILE.json):
// the engine checks what the plan depends on and keeps its actions alone
// (sync/approved.go); this is flags and wiring.
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
	j, done, err := fs.open(ctx, args, jobOptions{state: stateRun, crm: true})
	if err != nil {
		return err
	}
	defer done()
	if approved.Config != j.configID() {
		return usage(fmt.Errorf("plan %s is of another config (another CRM or state file) than %s; nothing was sent",
			fs.Arg(0), *fs.config))
	}
	if *file != "" {
		approved.Export = *file
	}
	if err := sync.CheckExport(approved.Export); err != nil {
		return &approve.MovedError{File: fs.Arg(0), Moved: []string{"the export " + approved.Export + " is gone (" + err.Error() + ")"}}
	}
	every := map[string]bool{}
	for _, g := range plan.GuardNames { // reviewed and approved: the guards are the plan's reader's
		every[g] = true
	}
	_, err = j.sync(ctx, syncOptions{mode: sync.ModeRun, file: approved.Export, stdout: c.Stdout, stderr: c.Stderr,
		accept: every, approved: approved})
	return err
}

// configID is this config's identity as an approved plan names it.
func (j *job) configID() string {
	return approve.ConfigID(j.cfg.CRM.BaseURL, j.cfg.CRM.APIVersion, j.cfg.State.Path)
}
