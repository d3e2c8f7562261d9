package report

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"erpsync/state"
	"erpsync/sync/inbox"
)

// StatusReader is what `erpsync status` reads of a checkpoint (the
// SQLite one, sqlite.DB, has it): its records, marks, runs, failures,
// counts, history, and the lock's holder, Gone telling whether that
// holder has stopped.
type StatusReader interface {
	state.RecordReader
	state.KnownReader
	state.Marks
	state.RunLog
	state.HistoryKeeper
	state.Inspector
	Gone(held *state.Holder) bool
}

// PrintStatus writes what `erpsync status` shows: the checkpoint's
// managed customers and watermark, what the counts of the CRM found, the
// lock's holder, the last n runs with why they failed, what serve holds
// (its ledger beside the state file at path), and the pending failures.
func PrintStatus(ctx context.Context, w io.Writer, db StatusReader, path string, n int, fullCheck time.Duration) error {
	managed, err := db.Count(ctx)
	if err != nil {
		return err
	}
	mark, err := db.Watermark(ctx)
	if err != nil {
		return err
	}
	runs, err := db.Runs(ctx, n)
	if err != nil {
		return err
	}
	failures, err := db.Failures(ctx)
	if err != nil {
		return err
	}
	watermark := "never (the next run reads every CRM customer)"
	if !mark.IsZero() {
		watermark = mark.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "Checkpoint %s: %d managed customers; CRM refresh watermark %s\n", path, managed, watermark)
	if err := printHistoryCount(ctx, w, db); err != nil {
		return err
	}
	if err := printCounting(ctx, w, db, fullCheck); err != nil {
		return err
	}
	held, err := db.Holder(ctx)
	if err != nil {
		return err
	}
	// A run is running only while a live holder keeps the lock, and only
	// the newest one can be it: the others' processes are gone.
	live := held != nil && !db.Gone(held)
	if held != nil {
		gone := ""
		if !live {
			gone = " (gone: the next run takes it over)"
		}
		fmt.Fprintf(w, "Locked by %s (pid %d on %s) since %s%s\n", held.Kind, held.PID, held.Host, held.Since.UTC().Format(time.RFC3339), gone)
	}
	fmt.Fprintf(w, "Last runs (%d):\n", len(runs))
	for _, r := range runs {
		ended := state.StatusRunning
		if !r.Ended.IsZero() {
			ended = r.Ended.Sub(r.Started).Round(time.Millisecond).String()
		}
		if r.Status == state.StatusRunning {
			if !live {
				r.Status, ended = state.StatusInterrupted, "its process is gone"
			}
			live = false
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Counts)) {
			if r.Counts[k] != 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, r.Counts[k]))
			}
		}
		fmt.Fprintf(w, "  #%d %-6s %s  %-18s %-8s %s  [%s]\n", r.ID, r.Kind, r.Started.UTC().Format(time.RFC3339),
			r.Status, ended, r.File, strings.Join(parts, ", "))
		if r.Error != "" { // why it failed, was aborted, or ended before its run (a fetch): its first line, bounded
			fmt.Fprintf(w, "      why: %s\n", Clip(firstLine(r.Error), 300))
		}
	}
	if err := printServeLedger(w, path); err != nil {
		return err
	}
	fmt.Fprintf(w, "Pending row failures (%d), retried by the next run:\n", len(failures))
	for i, f := range failures {
		if i == 20 {
			fmt.Fprintf(w, "  … and %d more\n", len(failures)-20)
			break
		}
		fmt.Fprintf(w, "  %s %s (line %d): %d %s %s\n", f.Op, f.Reference, f.Line, f.Status, f.Code, f.Message)
	}
	return nil
}

// printServeLedger shows what serve holds: the exports stopped by a
// guard, and an attempt that did not end (its process gone, or a run
// under way).
func printServeLedger(w io.Writer, statePath string) error {
	ledger := &inbox.Ledger{Path: inbox.LedgerPath(statePath)}
	held, err := ledger.Held()
	if err != nil {
		return err
	}
	PrintHeld(w, held)
	a, err := ledger.Attempt()
	if err != nil || a == nil {
		return err
	}
	fmt.Fprintf(w, "serve's attempt at %s: %d run(s) started without an end, the last %s (at 2, serve rejects it without a run)\n",
		a.Source, a.Starts, a.Last.Format(time.RFC3339))
	return nil
}

// printCounting says what the counts of the CRM found: customers created
// by hand (counted, never touched), deleted by hand, how far the CRM was
// verified by counting, and the last and next walk of every customer.
func printCounting(ctx context.Context, w io.Writer, db StatusReader, fullCheck time.Duration) error {
	unmanaged, err := db.UnmanagedCount(ctx)
	if err != nil {
		return err
	}
	gone, err := db.DeletedByHand(ctx)
	if err != nil {
		return err
	}
	verified, err := db.VerifiedUntil(ctx)
	if err != nil {
		return err
	}
	walked, err := db.FullCheck(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Counted in the CRM up to %s; created by hand (not managed, never touched): %d\n", stamp(verified), unmanaged)
	if !walked.IsZero() && fullCheck > 0 {
		fmt.Fprintf(w, "Last walk of every CRM customer %s; next due %s (sync.full_check %s)\n", stamp(walked), stamp(walked.Add(fullCheck)), fullCheck)
	}
	if len(gone) > 0 {
		refs := make([]string, 0, len(gone))
		for i, k := range gone {
			if i == 20 {
				refs = append(refs, fmt.Sprintf("… and %d more", len(gone)-20))
				break
			}
			refs = append(refs, k.Reference)
		}
		fmt.Fprintf(w, "Deleted by hand in the CRM (%d), put back or listed as sync.drift says: %s\n", len(gone), strings.Join(refs, ", "))
	}
	return nil
}

// stamp writes a time for people, or "never".
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// PrintHeld lists the held exports (status, release).
func PrintHeld(w io.Writer, held []inbox.Held) {
	if len(held) == 0 {
		return
	}
	fmt.Fprintf(w, "Held exports (%d), stopped by a guard; a newer export that syncs, or `erpsync release -config FILE NAME`, lets one go:\n", len(held))
	for _, h := range held {
		at := "left in the inbox"
		if h.MovedTo != "" {
			at = "at " + h.MovedTo
		}
		fmt.Fprintf(w, "  %s  %s (%s): %s\n", h.At.Format(time.RFC3339), path.Base(filepath.ToSlash(h.Source)), at, firstLine(h.Reason))
	}
}

// firstLine is a text's first line.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// printHistoryCount says how many events of customers' history the
// checkpoint keeps (state.history).
func printHistoryCount(ctx context.Context, w io.Writer, db StatusReader) error {
	events, err := db.HistoryCount(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "History: %d events of customers kept (state.history; erpsync why REFERENCE)\n", events)
	return nil
}
