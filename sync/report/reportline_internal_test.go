package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// outcomeSamples are lines whose cells need quoting, escaping or making
// inert, and plain ones.
var outcomeSamples = []OutcomeLine{
	{"create", "CUST-0001234", "123456", "201", "", "created"},
	{"update", "=C2", "3", "422", "invalid_field", "bad \"email\", see\nline 2"},
	{"delete", "GONE", "", "", "not_sent", "guard, stopped"},
	{"read", "@R4", "4", "", "invalid_row", "-5; +6\r\n\tend"},
	{"", "", "", "", "", ""},
	{"create", " lead space", "7", "201", "merged", "identical to line 2, merged into it: sent"},
}

// TestReportLine_SameBytesAsGocsv: a line of success.csv or errors.csv is
// byte for byte what gocsv writes from its row struct (WriteRows), cells
// made inert, whichever way it is encoded.
func TestReportLine_SameBytesAsGocsv(t *testing.T) {
	var want bytes.Buffer
	cw := csv.NewWriter(&want)
	for _, row := range outcomeSamples {
		if err := WriteRows(cw, row); err != nil {
			t.Fatal(err)
		}
	}
	cw.Flush()
	rf, err := createReportFile[OutcomeLine](filepath.Join(t.TempDir(), "success.csv"), 0o640, CSV{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range outcomeSamples {
		rf.line(row)
	}
	if err := rf.close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(rf.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	header := "operation,reference,line,http_status,error,message\n"
	if string(got) != header+want.String() {
		t.Errorf("success.csv:\n%q\nwant\n%q", got, header+want.String())
	}
}

// TestReportLine_Allocs: a line of success.csv (one per row an import
// sends) is encoded without gocsv's reflection, which cost 9 allocations
// and some 3 µs a line (BenchmarkLineEncode; issue 22's import figures).
func TestReportLine_Allocs(t *testing.T) {
	rf, err := createReportFile[OutcomeLine](filepath.Join(t.TempDir(), "success.csv"), 0o640, CSV{})
	if err != nil {
		t.Fatal(err)
	}
	defer rf.close()
	row := outcomeSamples[0]
	rf.line(row) // the buffers grown once
	if n := testing.AllocsPerRun(1000, func() { rf.line(row) }); n > 1 {
		t.Errorf("%v allocations a line, want at most 1", n)
	}
}
