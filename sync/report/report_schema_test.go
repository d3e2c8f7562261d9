package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gocarina/gocsv"

	"erpsync/sync/reconcile"
	"erpsync/sync/report"
)

// readCSV reads path back into its declared row struct with gocsv.
func readCSV[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []T
	if err := gocsv.UnmarshalFile(f, &rows); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rows
}

// TestReportFiles_Schema: each report file reads back, with gocsv, into
// the row struct it is written from.
func TestReportFiles_Schema(t *testing.T) {
	r := sampleRun(t)
	success := readCSV[report.OutcomeLine](t, filepath.Join(r.Dir, "success.csv"))
	if want := []report.OutcomeLine{{Operation: "create", Reference: "C1", Line: "2", HTTPStatus: "201", Message: "created"}}; !reflect.DeepEqual(success, want) {
		t.Errorf("success.csv: %+v, want %+v", success, want)
	}
	errs := readCSV[report.OutcomeLine](t, filepath.Join(r.Dir, "errors.csv"))
	wantErrs := []report.OutcomeLine{
		{Operation: "update", Reference: "'=C2", Line: "3", HTTPStatus: "422", Error: "invalid_field", Message: "bad \"email\", see\nline 2"},
		{Operation: "delete", Reference: "GONE", Error: "not_sent", Message: "guard, stopped"},
		{Operation: "read", Reference: "'@R4", Line: "4", Error: "invalid_row", Message: "no email"},
	}
	if !reflect.DeepEqual(errs, wantErrs) {
		t.Errorf("errors.csv: %+v, want %+v", errs, wantErrs)
	}
	warnings := readCSV[report.WarningLine](t, filepath.Join(r.Dir, "warnings.csv"))
	if want := []report.WarningLine{{Reference: "'-W5", Line: "5", Column: "website", Warning: "'+spaces"}}; !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings.csv: %+v, want %+v", warnings, want)
	}
	var buf bytes.Buffer
	if err := (report.CSV{}).WritePlan(&buf, samplePlan()); err != nil {
		t.Fatal(err)
	}
	var planLines []report.PlanLine
	if err := gocsv.Unmarshal(&buf, &planLines); err != nil {
		t.Fatal(err)
	}
	wantPlan := []report.PlanLine{
		{Operation: "update", Reference: "U1", Line: "2", Field: "email", Old: "a@x", New: "'=b@x", Reason: "changed"},
		{Operation: "update", Reference: "U1", Line: "2", Field: "creditLimit", Old: "-5", New: "10,5", Reason: "changed"},
		{Operation: "delete", Reference: "D1", Reason: "absent"},
		{Operation: "error", Reference: "'+B7", Line: "7", Field: "email", Reason: "no \"email\""},
	}
	if !reflect.DeepEqual(planLines, wantPlan) {
		t.Errorf("plan CSV: %+v, want %+v", planLines, wantPlan)
	}
}

// columns is the header gocsv writes for row struct T: its declared
// columns, in order.
func columns[T any](t *testing.T) []string {
	t.Helper()
	s, err := gocsv.MarshalString([]T{})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), ",")
}

// TestREADME_ListsReportColumns: the README's description of each report
// file lists the columns of the struct it is written from, in order.
func TestREADME_ListsReportColumns(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		files string
		cols  []string
	}{
		{"`success.csv`, `errors.csv`", columns[report.OutcomeLine](t)},
		{"`warnings.csv`", columns[report.WarningLine](t)},
		{"`plan -out FILE.csv`", columns[report.PlanLine](t)},
		{"`reconciliation.csv`", columns[reconcile.CSVLine](t)},
	} {
		line := "- " + f.files + ": `" + strings.Join(f.cols, "`, `") + "` ("
		if !bytes.Contains(readme, []byte(line)) {
			t.Errorf("README.md does not describe %s as\n%s", f.files, line)
		}
	}
}
