package main

import (
	"context"
	"errors"
	"io"

	"erpsync/sync"
)

// ImportCommand is a one-off migration: upserts only (never deletes, no
// drift handling), resumable: run again after a crash, it sends only what
// is not yet recorded.
type ImportCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync import -config FILE -file EXPORT`.
func (c *ImportCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("import", c.Stderr)
	file := fs.String("file", "", "export to import (required)")
	j, done, err := fs.open(ctx, args, jobOptions{state: stateCreate, crm: true, file: file})
	if err != nil {
		return err
	}
	defer done()
	if *file == "" {
		return usage(errors.New("import needs -file EXPORT"))
	}
	_, err = j.sync(ctx, syncOptions{mode: sync.ModeImport, file: *file, stdout: c.Stdout, stderr: c.Stderr})
	return err
}
