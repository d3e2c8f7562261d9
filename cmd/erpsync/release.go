package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"time"

	"erpsync/sync/inbox"
	"erpsync/sync/report"
)

// ReleaseCommand lets go of exports that serve holds: exports stopped by
// a guard, set aside in archive_dir/held/ with their reason. A held
// export makes /healthz answer 503 until a newer export syncs or an
// operator releases it here. The file stays where it is (held/): to sync
// it anyway, change the guard and `erpsync run -file` it, then release it.
// One held in place (no archive_dir) is taken again at serve's next tick.
type ReleaseCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync release -config FILE [-all] [NAME ...]`: NAME is the
// export's file name (b-day2.csv), where it was, or where it is held.
func (c *ReleaseCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("release", c.Stderr)
	all := fs.Bool("all", false, "release every held export")
	j, done, err := fs.open(ctx, args, jobOptions{state: noState})
	if err != nil {
		return err
	}
	defer done()
	ledger := &inbox.Ledger{Path: inbox.LedgerPath(j.cfg.State.Path)}
	held, err := ledger.Held()
	if err != nil {
		return err
	}
	names := fs.Args()
	if len(held) == 0 {
		fmt.Fprintln(c.Stdout, "no export is held")
		return nil
	}
	if !*all && len(names) == 0 {
		report.PrintHeld(c.Stdout, held)
		return usage(errors.New("name the held export to release (or -all)"))
	}
	for _, n := range names {
		if !slices.ContainsFunc(held, func(h inbox.Held) bool { return heldAs(h, n) }) {
			report.PrintHeld(c.Stdout, held)
			return usage(fmt.Errorf("no held export is named %q", n))
		}
	}
	released, err := ledger.Release(func(h inbox.Held) bool {
		return *all || slices.ContainsFunc(names, func(n string) bool { return heldAs(h, n) })
	})
	if err != nil {
		return err
	}
	for _, h := range released {
		where := "it is in the inbox, and serve's next tick takes it again (held again if the guard still stops it)"
		if h.MovedTo != "" {
			where = "the file stays in " + h.MovedTo
		}
		fmt.Fprintf(c.Stdout, "released %s (held since %s): %s\n", h.Source, h.At.Format(time.RFC3339), where)
	}
	return nil
}

// heldAs reports whether name names a held export: its file name, where
// it was, or where it is held.
func heldAs(h inbox.Held, name string) bool {
	base := func(s string) string { return path.Base(filepath.ToSlash(s)) }
	return name == h.Source || name == base(h.Source) || h.MovedTo != "" && (name == h.MovedTo || name == base(h.MovedTo))
}
