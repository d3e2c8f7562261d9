package main

import (
	"context"
	"io"

	"erpsync/sync/report"
)

// StatusCommand shows the last runs, pending row failures, the watermark
// and the number of managed records. It reads the checkpoint only.
type StatusCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync status -config FILE`.
func (c *StatusCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("status", c.Stderr)
	n := fs.Int("runs", 10, "how many runs to show")
	j, done, err := fs.open(ctx, args, jobOptions{state: stateExisting})
	if err != nil {
		return err
	}
	defer done()
	return report.PrintStatus(ctx, c.Stdout, j.db, j.cfg.State.Path, *n, j.cfg.Sync.FullCheck)
}
