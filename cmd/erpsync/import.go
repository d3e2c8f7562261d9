package main

import (
	"context"
	"errors"
	"flag"
	"io"
)

// ImportCommand is a one-off migration: upserts only (never deletes, no
// drift handling), resumable: run again after a crash, it sends only what
// is not yet recorded.
type ImportCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync import -config FILE -file EXPORT`.
func (c *ImportCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	cfgPath := fs.String("config", "", "config file (YAML)")
	file := fs.String("file", "", "export to import (required)")
	verbose := fs.Bool("v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if *file == "" {
		return &ExitError{Code: ExitUsage, Err: errors.New("import needs -file EXPORT")}
	}
	log := newLogger(c.Stderr, *verbose)
	defer func() { _ = log.Sync() }()
	j, err := openJob(ctx, *cfgPath, log, jobOptions{state: true})
	if err != nil {
		return err
	}
	defer j.Close()
	_, err = j.sync(ctx, syncOptions{kind: "import", file: *file, stdout: c.Stdout, stderr: c.Stderr})
	return err
}
