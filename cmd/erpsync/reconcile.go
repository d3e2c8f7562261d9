package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"erpsync/mapping"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/plan"
	"erpsync/sync/reconcile"
)

// ReconcileCommand compares the export with everything the CRM holds, for
// finance. It writes nothing to the CRM and nothing to the checkpoint.
type ReconcileCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync reconcile -config FILE [-file EXPORT] [-out DIR]`.
func (c *ReconcileCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("reconcile", c.Stderr)
	file := fs.String("file", "", "export to compare (default: the newest match of source.path)")
	out := fs.String("out", "", "folder for reconciliation.json, .csv and .html (default: under reports.dir)")
	var failOver plan.Limit
	fs.Func("fail-over", "exit 1 only above this many differences: a count (10) or a share of the customers compared (0.5%)",
		func(s string) error { return failOver.UnmarshalText([]byte(s)) })
	j, done, err := fs.open(ctx, args, jobOptions{crm: true})
	if err != nil {
		return err
	}
	defer done()
	path, err := j.exportPath(ctx, *file)
	if err != nil {
		return err
	}
	if err := sync.CheckExport(path); err != nil {
		return err
	}
	if _, err := j.mapping.Check(path); err != nil {
		return usage(err)
	}
	// The checkpoint explains differences when there is one; it is only read.
	var cp reconcile.Checkpoint
	spill := "" // the spill file beside the checkpoint; without one, $TMPDIR
	if _, err := os.Stat(j.cfg.State.Path); err == nil {
		db := sqlite.NewDB(j.cfg.State.Path)
		if err := db.Open(ctx); err != nil {
			return err
		}
		defer db.Close()
		cp, spill = db, filepath.Dir(j.cfg.State.Path)
	}
	setMemory, restoreMemory := reconcileMemory()
	defer restoreMemory()
	res, err := reconcile.Run(ctx, sync.ExportRows(ctx, j.mapping, path), j.client, cp, reconcile.Options{
		Concurrency: j.cfg.CRM.Concurrency, Tolerance: j.cfg.Reconcile.Tolerance, CountryCode: mapping.CountryCode,
		MaxErrors: j.cfg.Reports.MaxErrors, Fields: j.cfg.Sync.Fields, Limit: setMemory, SpillDir: spill,
	})
	if err != nil {
		return err
	}
	at := time.Now()
	dir := *out
	if dir == "" {
		dir = filepath.Join(j.cfg.Reports.Dir, "reconcile-"+at.UTC().Format("20060102T150405Z"))
	}
	files, err := reconcile.Write(dir, res, reconcile.Pack{Source: path, At: at,
		Mode: os.FileMode(j.cfg.Reports.FileMode), CSV: csvFormat(j.cfg),
		ExportName: j.exportName(path), Version: buildVersion(), ConfigFingerprint: reconcile.Fingerprint(j.cfg)})
	if err != nil {
		return err
	}
	printReconciliation(c.Stdout, path, res)
	s := res.Summary
	fmt.Fprintf(c.Stdout, "Report: %s\n", files.HTML)
	if !res.Over(failOver) {
		if res.Differences() > 0 {
			fmt.Fprintf(c.Stdout, "%d differences, not above -fail-over %s: exit 0\n", res.Differences(), failOver)
		}
		return nil
	}
	switch res.Verdict() {
	case reconcile.VerdictDiffer:
		return sync.WithClass(sync.ClassRowFailures, fmt.Errorf("the ERP and the CRM differ on %d customers; see %s",
			s.OnlyInERP+s.OnlyInCRM+s.Different, dir))
	case reconcile.VerdictExcept:
		return sync.WithClass(sync.ClassRowFailures, fmt.Errorf("the ERP and the CRM agree except %d rows erpsync could not send; see %s",
			s.CouldNotSend, dir))
	}
	return nil
}

// reconcileMemory returns what sets the process's soft memory limit to
// what a reconciliation holds at each step (reconcile.MemoryLimitOf),
// unless GOMEMLIMIT is set in the environment, and what restores the
// limit before.
func reconcileMemory() (set func(bytes int64), restore func()) {
	before := int64(-1)
	set = func(bytes int64) {
		if !processMemory || os.Getenv("GOMEMLIMIT") != "" {
			return
		}
		if was := debug.SetMemoryLimit(bytes); before < 0 {
			before = was
		}
	}
	return set, func() {
		if before >= 0 {
			debug.SetMemoryLimit(before)
		}
	}
}

// printReconciliation shows a reconciliation for people: the counts, the
// totals per currency, the invalid rows, the first items and the verdict.
func printReconciliation(w io.Writer, path string, res *reconcile.Reconciliation) {
	s := res.Summary
	fmt.Fprintf(w, "Reconciliation of %s against the CRM (%d customers listed)\n", path, res.Listing.Customers)
	if res.Listing.Unsettled {
		fmt.Fprintln(w, "Warning: the CRM kept changing while it was listed (three passes); a change made meanwhile may be missing: run again at a quieter time")
	}
	fmt.Fprintf(w, "  matched %d · only in the ERP %d · only in the CRM %d · different %d · rows erpsync could not send %d\n",
		s.Matched, s.OnlyInERP, s.OnlyInCRM, s.Different, s.CouldNotSend)
	if s.Deactivated > 0 {
		fmt.Fprintf(w, "  deactivated by erpsync %d (inactive in the CRM, absent from the export: no difference, out of the totals)\n", s.Deactivated)
	}
	for cur, t := range res.Totals {
		if !res.CreditMapped { // the mapping does not read creditLimit: counts only
			fmt.Fprintf(w, "  %s: ERP %d customers · CRM %d\n", cur, t.ERPCount, t.CRMCount)
			continue
		}
		fmt.Fprintf(w, "  %s: ERP %d customers, credit limits %.2f · CRM %d, %.2f · difference %.2f\n",
			cur, t.ERPCount, t.ERPCreditLimit, t.CRMCount, t.CRMCreditLimit, t.Difference)
	}
	if n := len(res.RowErrors) + res.RowErrorsOmitted; n > 0 {
		fmt.Fprintf(w, "  invalid rows %d (not compared):\n", n)
		for i, e := range res.RowErrors {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, "    %s\n", e)
		}
		if shown := min(len(res.RowErrors), 10); n > shown {
			fmt.Fprintf(w, "    … and %d more (the report lists %d)\n", n-shown, len(res.RowErrors))
		}
	}
	shown := 0
	for _, it := range res.Items {
		if it.Status == reconcile.StatusInvalid && len(it.Lines) == 0 {
			continue // an invalid row: listed above
		}
		if shown == 10 {
			fmt.Fprintf(w, "  … and more in the report (%d items in all)\n", len(res.Items))
			break
		}
		shown++
		fmt.Fprintf(w, "  %-11s %s: %s\n", it.Status, it.Reference, it.Explanation)
	}
	fmt.Fprintln(w, res.VerdictText())
}
