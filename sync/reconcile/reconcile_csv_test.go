package reconcile_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gocarina/gocsv"

	"erpsync/sync/reconcile"
)

// sampleReconciliation has a difference, an item without one, a formula
// cell and invalid rows not listed.
func sampleReconciliation() *reconcile.Reconciliation {
	return &reconcile.Reconciliation{
		Items: []reconcile.Item{
			{Reference: "R1", Status: "differs", Explanation: "changed in the ERP", Differences: []reconcile.FieldDiff{
				{Field: "creditLimit", ERP: "1000", CRM: "-5", Delta: "1005"},
				{Field: "email", ERP: "=a@x", CRM: "b@x, c", Explanation: "edited by hand"},
			}},
			{Reference: "+R2", Status: "missing_in_crm", Explanation: "deleted by hand"},
		},
		RowErrorsOmitted: 3,
	}
}

// TestReconcileCSV_Bytes: reconciliation.csv's bytes, header and cell
// sanitising included, are those erpsync has always written.
func TestReconcileCSV_Bytes(t *testing.T) {
	files, err := reconcile.Write(t.TempDir(), sampleReconciliation(), reconcile.Pack{Source: exportFile(t), At: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(files.CSV)
	if err != nil {
		t.Fatal(err)
	}
	want := "reference,status,field,erp_value,crm_value,delta,explanation\n" +
		"R1,differs,creditLimit,1000,-5,1005,changed in the ERP\n" +
		"R1,differs,email,'=a@x,\"b@x, c\",,edited by hand\n" +
		"'+R2,missing_in_crm,,,,,deleted by hand\n" +
		",invalid,,,,,\"and 3 more invalid rows, counted but not listed (reports.max_errors)\"\n"
	if string(got) != want {
		t.Errorf("reconciliation.csv:\n%q\nwant\n%q", got, want)
	}
}

// TestReconcileCSV_Schema: reconciliation.csv reads back, with gocsv,
// into the row struct it is written from.
func TestReconcileCSV_Schema(t *testing.T) {
	files, err := reconcile.Write(t.TempDir(), sampleReconciliation(), reconcile.Pack{Source: exportFile(t), At: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	got := readReconcileCSV(t, files.CSV)
	want := []reconcile.CSVLine{
		{Reference: "R1", Status: "differs", Field: "creditLimit", ERPValue: "1000", CRMValue: "-5", Delta: "1005", Explanation: "changed in the ERP"},
		{Reference: "R1", Status: "differs", Field: "email", ERPValue: "'=a@x", CRMValue: "b@x, c", Explanation: "edited by hand"},
		{Reference: "'+R2", Status: "missing_in_crm", Explanation: "deleted by hand"},
		{Status: reconcile.StatusInvalid, Explanation: "and 3 more invalid rows, counted but not listed (reports.max_errors)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reconciliation.csv: %+v, want %+v", got, want)
	}
}

// readReconcileCSV reads reconciliation.csv back into its row struct with
// gocsv.
func readReconcileCSV(t *testing.T, path string) []reconcile.CSVLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []reconcile.CSVLine
	if err := gocsv.UnmarshalFile(f, &lines); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return lines
}

// exportFile is a small export for a pack's manifest to hash.
func exportFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(path, []byte("ref;name\nR1;A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
