package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/sync/report"
)

// TestCSVFormat_EuropeanExcel: with reports.csv {bom: true, delimiter:
// ";"}, a run's success.csv and errors.csv start with the UTF-8 BOM and
// separate their cells with ";"; a cell holding ";" is quoted.
func TestCSVFormat_EuropeanExcel(t *testing.T) {
	r, err := report.New(t.TempDir(), "run-1", 0, report.CSV{BOM: true, Delimiter: ';'})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(report.Summary{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"success.csv", "errors.csv"} {
		got, err := os.ReadFile(filepath.Join(r.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want := "\ufeffoperation;reference;line;http_status;error;message\n"
		if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestCSVFormat_Default: the zero CSV is today's format: no BOM, ",".
func TestCSVFormat_Default(t *testing.T) {
	var buf bytes.Buffer
	cw, err := report.CSV{}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	cw.Write([]string{"a;b", "c"})
	cw.Flush()
	if got := buf.String(); got != "a;b,c\n" {
		t.Errorf("default = %q", got)
	}
	buf.Reset()
	cw, _ = report.CSV{BOM: true, Delimiter: ';'}.NewWriter(&buf)
	cw.Write([]string{"a;b", "c"})
	cw.Flush()
	if got := buf.String(); got != "\ufeff\"a;b\";c\n" {
		t.Errorf("european = %q", got)
	}
}

// TestParseCSVDelimiter: the delimiters reports.csv.delimiter takes, and
// one it refuses naming the key.
func TestParseCSVDelimiter(t *testing.T) {
	for in, want := range map[string]rune{"": ',', ",": ',', ";": ';', "\t": '\t', "|": '|'} {
		got, err := report.ParseDelimiter(in)
		if err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"::", "\"", "a", "\n"} {
		if _, err := report.ParseDelimiter(bad); err == nil || !strings.Contains(err.Error(), "reports.csv.delimiter") {
			t.Errorf("ParseDelimiter(%q) err = %v, want it to name reports.csv.delimiter", bad, err)
		}
	}
}
