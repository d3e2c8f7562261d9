package sync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/sync"
)

// TestRun_UnsafeManagedReferenceIsARowFailure: a managed reference that
// CheckReference now refuses (a/b, recorded before the check), absent
// from a mirror export, is never deleted by its path: an invalid_row line
// in errors.csv, and the run ends with row failures (exit 1), not done.
func TestRun_UnsafeManagedReferenceIsARowFailure(t *testing.T) {
	c := newCSVJob(t, csvConfig())
	export := []string{"reference;name;parent;email", "GOOD;Good;;"}
	if _, err := c.run(t, export...); err != nil {
		t.Fatalf("run 1: %v", err)
	}
	ctx := context.Background()
	w := c.job.State.NewWriter(10, time.Hour)
	if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: "a/b", Hash: "h", Values: map[string]string{"name": "Slash"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := c.run(t, export...)
	if got := sync.Classify(err); got != sync.ClassRowFailures {
		t.Fatalf("run 2 = %v (class %d), want row failures (1)", err, got)
	}
	found := false
	for _, l := range outcomeLines(t, out, "errors.csv") {
		found = found || l.Reference == "a/b" && strings.Contains(l.Message, "not deleted")
	}
	if !found || out.Status != state.StatusDoneFailures {
		t.Errorf("status %q, a/b in errors.csv: %v; want done with failures and a/b listed", out.Status, found)
	}
}
