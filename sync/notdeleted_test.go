package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/report"
)

// TestRun_NotDeletedCounted: the managed customers a mirror run does not
// delete for their unsafe reference (Plan.NotDeleted) have a count of
// their own, not a row of the export: not_deleted in summary.json (its
// rows still add up to what was read) and in the run's record, which
// status shows.
func TestRun_NotDeletedCounted(t *testing.T) {
	c := newCSVJobWith(t, testrig.SQLite, csvConfig(), crmsim.Options{}) // status reads a checkpoint on disk
	export := []string{"reference;name;parent;email", "GOOD;Good;;"}
	if _, err := c.run(t, export...); err != nil {
		t.Fatalf("run 1: %v", err)
	}
	ctx := context.Background()
	w := c.job.State.NewWriter(10, time.Hour)
	for _, ref := range []string{"a/b", "c/d"} { // managed before the check existed
		if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: ref, Hash: "h", Values: map[string]string{"name": "Slash"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := c.run(t, export...)
	if out == nil || out.Plan == nil || out.Plan.NotDeleted != 2 {
		t.Fatalf("run 2: plan %+v, want 2 not deleted", out)
	}
	raw, err := os.ReadFile(filepath.Join(out.Dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		NotDeleted int               `json:"not_deleted"`
		Rows       report.RowAccount `json:"rows"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.NotDeleted != 2 || sum.Rows.Read != 1 || sum.Rows.Unchanged != 1 || sum.Rows.Invalid != 0 {
		t.Errorf("summary.json: not_deleted %d, rows %+v; want 2, and the one row read unchanged", sum.NotDeleted, sum.Rows)
	}
	runs, err := c.job.State.Runs(ctx, 1)
	if err != nil || len(runs) != 1 || runs[0].Counts["not_deleted"] != 2 {
		t.Fatalf("run record %+v, %v: want not_deleted 2 in its counts", runs, err)
	}
	db, ok := c.job.State.(*sqlite.DB)
	if !ok {
		t.Fatalf("checkpoint %T, want the SQLite one that status reads", c.job.State)
	}
	var b bytes.Buffer
	if err := report.PrintStatus(ctx, &b, db, db.Path, 1, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "not_deleted 2") {
		t.Errorf("status does not show not_deleted 2:\n%s", b.String())
	}
}
