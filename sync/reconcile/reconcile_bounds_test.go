package reconcile_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/reconcile"
	"erpsync/sync/report"
)

// Issue 26 follow-up §4: a reconciliation keeps the first MaxErrors
// invalid rows (reports.max_errors) and counts the others, in memory and
// in its reports (JSON, CSV, HTML), as a run's plan does; every invalid
// row still counts in could_not_send. Its report files are created of the
// reports' mode (0640 by default, reports.file_mode), not 0644.
func TestReconcile_RowErrorsBounded(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	export := []mapping.Row{plantest.Cust(2, "GOOD", "email=g@example.com")}
	for i := range 20 {
		export = append(export, plantest.Bad(3+i, "BAD"+string(rune('A'+i))))
	}
	res, err := reconcile.Run(ctx, plantest.Rows(export...), r.Client, r.CP, reconcile.Options{MaxErrors: 5})
	if err != nil {
		t.Fatal(err)
	}
	invalid := 0
	for _, it := range res.Items {
		if it.Status == reconcile.StatusInvalid {
			invalid++
		}
	}
	if len(res.RowErrors) != 5 || res.RowErrorsOmitted != 15 || invalid != 5 || res.Summary.CouldNotSend != 20 {
		t.Fatalf("row errors %d kept, %d omitted, %d invalid items, could_not_send %d; want 5, 15, 5, 20",
			len(res.RowErrors), res.RowErrorsOmitted, invalid, res.Summary.CouldNotSend)
	}
	for _, mode := range []os.FileMode{0, 0o600} {
		dir := filepath.Join(t.TempDir(), "out")
		files, err := reconcile.Write(dir, res, reconcile.Pack{Source: exportFile(t), At: time.Now(), Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		want := mode
		if want == 0 {
			want = report.DefaultMode
		}
		for _, p := range []string{files.JSON, files.CSV, files.HTML} {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
				t.Errorf("%s: mode %v, %v; want %v", filepath.Base(p), st.Mode().Perm(), err, want)
			}
		}
		if mode != 0 {
			continue
		}
		data, _ := os.ReadFile(files.JSON)
		var doc struct {
			RowErrors []string `json:"row_errors"`
			Omitted   int      `json:"row_errors_omitted"`
		}
		if err := json.Unmarshal(data, &doc); err != nil || len(doc.RowErrors) != 5 || doc.Omitted != 15 {
			t.Errorf("reconciliation.json: %d row errors, %d omitted, %v; want 5 and 15", len(doc.RowErrors), doc.Omitted, err)
		}
		lines := readReconcileCSV(t, files.CSV)
		n, more := 0, false
		for _, l := range lines {
			if l.Status == reconcile.StatusInvalid {
				n++
				more = more || strings.Contains(l.Explanation, "and 15 more")
			}
		}
		if n != 6 || !more {
			t.Errorf("reconciliation.csv: %d invalid lines; want 5 and one saying 15 more:\n%+v", n, lines)
		}
		if html, _ := os.ReadFile(files.HTML); !strings.Contains(string(html), "and 15 more") {
			t.Errorf("reconciliation.html does not count the rows not listed")
		}
	}
}

// TestReconcile_RepeatedReferenceBounded: a reference on 100,001 rows,
// one of them different, is one refused item naming its first lines
// (as a plan's maxDupLines) and counting the others: every row still
// counts in could_not_send.
func TestReconcile_RepeatedReferenceBounded(t *testing.T) {
	r := testrig.New(t, crmsim.Options{}, "", 4)
	const n = 100_001
	export := make([]mapping.Row, 0, n)
	for i := range n {
		name := "name=Same"
		if i == n-1 {
			name = "name=Other"
		}
		export = append(export, plantest.Cust(2+i, "R", name))
	}
	res, err := reconcile.Run(context.Background(), plantest.Rows(export...), r.Client, r.CP, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Summary.CouldNotSend != n {
		t.Fatalf("%d items, could_not_send %d; want 1 and %d", len(res.Items), res.Summary.CouldNotSend, n)
	}
	it := res.Items[0]
	if len(it.Lines) > 10 || len(it.Explanation) > 1000 || !strings.Contains(it.Explanation, "and 99991 more") {
		t.Errorf("item of %d lines, explanation of %d bytes (%.200q); want 10 lines and the others counted",
			len(it.Lines), len(it.Explanation), it.Explanation)
	}
}
