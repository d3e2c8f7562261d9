package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"erpsync/sync"
	"erpsync/sync/reconcile"
)

// VerifyCommand checks a reconcile pack against its manifest.
type VerifyCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync verify DIR`: exit 0 when every file of the pack is as
// written, 1 naming each one changed, missing or added, 2 without a
// readable manifest.
func (c *VerifyCommand) Run(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	if err := fs.Parse(args); err != nil {
		return usage(err)
	}
	if fs.NArg() != 1 {
		return usage(errors.New("verify takes one folder: erpsync verify DIR"))
	}
	dir := fs.Arg(0)
	bad, err := reconcile.Verify(dir)
	if err != nil {
		return usage(err)
	}
	if len(bad) > 0 {
		return sync.WithClass(sync.ClassRowFailures, fmt.Errorf("the pack %s changed since it was written:\n  %s",
			dir, strings.Join(bad, "\n  ")))
	}
	fmt.Fprintf(c.Stdout, "The pack %s is as written: every file matches %s.\n", dir, reconcile.ManifestName)
	return nil
}

// buildVersion is erpsync's version: its module's, or the VCS revision
// it was built from ("devel" without either).
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	version := info.Main.Version
	if version == "" || version == "(devel)" {
		version = "devel"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			version += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				version += " (modified)"
			}
		}
	}
	return version
}
