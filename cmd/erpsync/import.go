package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime/debug"

	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/plan"
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
	j, done, err := fs.open(ctx, args, jobOptions{state: stateCreate, crm: true, file: file, notify: sync.ModeImport})
	if err != nil {
		return err
	}
	defer done()
	if *file == "" {
		return usage(errors.New("import needs -file EXPORT"))
	}
	restore, planned := func() {}, func(int) {}
	if processMemory {
		restore, planned = importMemory()
	}
	defer restore()
	out, err := j.sync(ctx, syncOptions{mode: sync.ModeImport, file: *file, stdout: c.Stdout, stderr: c.Stderr,
		planned: func(p *plan.Plan) { planned(p.Len()) }})
	j.notifyEnd(ctx, sync.ModeImport, *file, out, err, false)
	return err
}

// importLimit is the Go memory an import aims to stay within while it
// plans: a 1M-row import holds ~110 MB live while its plan reads the
// export (the index of references, a 24-byte draft of each create with
// no parent, an Action of each other upsert; ~180 MB with an Action a
// row, the collector then back to back), then some 75 MB
// (52 MB of lean rows, with no pointer) and the history's first writes
// through its apply (issue 14 §3: <= 250 MiB peak RSS). The limit bounds
// the first; the second has a lower one (apply.ImportMemoryLimit), with
// room for the collector to run little (4.5% of the import's CPU at 1M,
// 28% when the apply held an Action a row).
const importLimit = apply.ImportPlanLimit

// importGCPercent lets the heap of a small import grow well past its
// live data before a collection: the limit, not GOGC, bounds a large one.
const importGCPercent = 400

// importMemory sets the import's garbage collection, unless GOGC or
// GOMEMLIMIT are set in the environment, and returns what restores the
// settings before, and what lowers the limit once the plan of rows is
// made (apply.ImportMemoryLimit). With GOGC=50 alone, a 1M import's heap reached 283 MB
// (379 MiB RSS), and a small one collected every few MB allocated. An
// import larger than the limit allows is not stopped: the collector then
// takes at most half the CPU and the heap grows past the limit. The
// settings are the process's: one import at a time (tests that ran two
// at once would restore them out of order).
func importMemory() (restore func(), planned func(rows int)) {
	gc, limit := -2, int64(-1)
	if os.Getenv("GOGC") == "" {
		gc = debug.SetGCPercent(importGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limit = debug.SetMemoryLimit(importLimit)
	}
	planned = func(rows int) {
		if limit >= 0 {
			debug.SetMemoryLimit(apply.ImportMemoryLimit(rows))
		}
	}
	return func() {
		if gc != -2 {
			debug.SetGCPercent(gc)
		}
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
	}, planned
}
