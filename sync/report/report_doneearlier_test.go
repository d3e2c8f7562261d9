package report_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/plan"
	"erpsync/sync/report"
)

// history is a checkpoint's run history and records, as ListDoneEarlier
// reads them.
type history struct {
	runs    []state.Run // newest first
	records []state.Record
}

func (h history) Runs(context.Context, int) ([]state.Run, error) { return h.runs, nil }

func (h history) Records(_ context.Context, fn func(state.Record) error) error {
	for _, rec := range h.records {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// TestListDoneEarlier_NotThisRunsRows: run 2 resumes run 1, which pushed
// X. Run 2 sends R (15 identical rows, lines 3-17; with max_errors 2,
// lines 15-17 are counted in "3 more") and Y. Only X is done earlier:
// R's counted rows and Y, pushed after run 2's start, are this run's.
func TestListDoneEarlier_NotThisRunsRows(t *testing.T) {
	t1 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	db := history{
		runs: []state.Run{
			{ID: 2, Status: state.StatusRunning, Started: t2},
			{ID: 1, Status: state.StatusInterrupted, Started: t1},
			{ID: 0, Status: state.StatusDone, Started: t1.Add(-24 * time.Hour)},
		},
		records: []state.Record{
			{Reference: "X", PushedAt: t1.Add(time.Minute)},
			{Reference: "R", PushedAt: t2.Add(time.Minute)},
			{Reference: "Y", PushedAt: t2.Add(2 * time.Minute)},
		},
	}
	rows := []mapping.Row{{Line: 2, Customer: &mapping.Customer{Reference: "X"}}}
	for l := 3; l <= 17; l++ {
		rows = append(rows, mapping.Row{Line: l, Customer: &mapping.Customer{Reference: "R"}})
	}
	rows = append(rows, mapping.Row{Line: 18, Customer: &mapping.Customer{Reference: "Y"}})
	p := &plan.Plan{Unchanged: 1, Merged: []plan.Merged{{Reference: "R", Lines: []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Rows: 15}}}

	r, err := report.New(t.TempDir(), "run-2", 0, report.CSV{})
	if err != nil {
		t.Fatal(err)
	}
	r.Expect(p)
	r.Add(apply.Result{Action: &plan.Action{Op: plan.OpUpdate, Reference: "R", Line: 3}, Status: 200, Message: "updated"})
	ctx := context.Background()
	if err := r.ListRepeated(ctx, sliceRows(rows), 2); err != nil {
		t.Fatal(err)
	}
	if err := r.ListDoneEarlier(ctx, db, sliceRows(rows), 2, p); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(report.Summary{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(r.Dir, "success.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var early []string
	for _, rec := range recs {
		if rec[4] == "done_earlier" {
			early = append(early, rec[1]+" line "+rec[2])
		}
	}
	if len(early) != 1 || early[0] != "X line 2" {
		t.Errorf("done earlier: %q, want only X line 2", early)
	}
}

func sliceRows(rows []mapping.Row) plan.Rows {
	return func(fn func(mapping.Row) error) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}
