package main

import (
	"context"
	"errors"
	"flag"
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

// Run runs `erpsync apply -config FILE [-file EXPORT] PLAN.json`; the
// flags may come after the plan file too.
func (c *ApplyCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("apply", c.Stderr)
	file := fs.String("file", "", "the export, when it is no longer where plan read it (its sha256 must be the plan's)")
	flags, files, err := flagsAround(fs.FlagSet, args)
	if err != nil {
		return usage(err)
	}
	if len(files) != 1 {
		return usage(errors.New("apply: name one plan file: erpsync apply -config FILE PLAN.json"))
	}
	approved, err := approve.Read(files[0]) // not a plan, or edited: exit 2
	if err != nil {
		return err
	}
	j, done, err := fs.open(ctx, flags, jobOptions{state: stateRun, crm: true, notify: sync.ModeRun}) // an apply is a run (its kind in the history): told as one
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

// flagsAround parses args whose flags may come before and after the
// arguments: it returns the flags alone, in order, and the arguments.
// After "--" every word is an argument.
func flagsAround(fs *flag.FlagSet, args []string) (flags, rest []string, err error) {
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		left := fs.Args()
		used := args[:len(args)-len(left)]
		if len(used) > 0 && used[len(used)-1] == "--" {
			return append(flags, used[:len(used)-1]...), append(rest, left...), nil
		}
		flags = append(flags, used...)
		if len(left) == 0 {
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	return flags, rest, nil
}
