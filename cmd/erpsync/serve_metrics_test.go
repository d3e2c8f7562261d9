package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

// Review of the merges, point 4: /metrics counted invalid rows as row
// errors (RowErrorCount), while the console, summary.json and the plan
// count rows (Plan.InvalidRows): three rows of one reference with
// differing values are one row error but three invalid rows, and added
// 1 to erpsync_rows_total{read,invalid} against 3 elsewhere.
func TestServe_MetricsInvalidRowsAgree(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	day1, err := os.ReadFile("../../testdata/exports/day1.csv")
	if err != nil {
		t.Fatal(err)
	}
	export := string(day1) +
		"C-9000;Conflict One;FR;Nice;1,00;EUR;1;30;;C;J;;\n" +
		"C-9000;Conflict Two;FR;Nice;1,00;EUR;1;30;;C;J;;\n" +
		"C-9000;Conflict Three;FR;Nice;1,00;EUR;1;30;;C;J;;\n"
	src := filepath.Join(t.TempDir(), "conflict.csv")
	if err := os.WriteFile(src, []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}
	f.drop(src, "conflict.csv", time.Minute)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "the export synced and archived", func() bool { return len(archived(t, f.archive)) == 1 })
	// The export is archived before its run is counted (settle, then the
	// metrics): wait for the run's rows, not only for the archive.
	invalid := map[string]string{"operation": "read", "outcome": "invalid"}
	var get func(string, map[string]string) float64
	waitFor(t, 20*time.Second, "the run's rows in /metrics", func() bool {
		get = scrape(t, addr)
		return get("erpsync_rows_total", invalid) != -1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	sums, _ := filepath.Glob(filepath.Join(f.dir, "reports", "*", "summary.json"))
	if len(sums) != 1 {
		t.Fatalf("summaries %v, want one", sums)
	}
	data, err := os.ReadFile(sums[0])
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		RowErrors int `json:"row_errors"`
		Rows      struct {
			Invalid int `json:"invalid"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Rows.Invalid != 3 || sum.RowErrors != 3 {
		t.Fatalf("summary.json: rows.invalid %d, row_errors %d; want 3 (the three C-9000 rows)", sum.Rows.Invalid, sum.RowErrors)
	}
	if got := get("erpsync_rows_total", invalid); got != 3 {
		t.Errorf("erpsync_rows_total{read,invalid} = %v, want 3 as summary.json says", got)
	}
}
