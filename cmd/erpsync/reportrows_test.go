package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocarina/gocsv"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/report"
)

// readRows reads a report file back with gocsv into T, the row struct
// the file is written from (sync/report's OutcomeLine, PlanLine…,
// sync/reconcile's CSVLine): cells are found by their column's name, so a
// reordered file reads the same, and a file that lacks one of T's
// columns fails the test naming it.
func readRows[T any](t *testing.T, path string) []T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, err := csv.NewReader(bytes.NewReader(data)).Read()
	if err != nil {
		t.Fatalf("read %s: header: %v", path, err)
	}
	if missing := missingColumns[T](t, header); len(missing) > 0 {
		t.Fatalf("read %s: no column %q (its header: %q)", path, missing, header)
	}
	var rows []T
	if err := gocsv.UnmarshalBytes(data, &rows); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rows
}

// missingColumns returns the columns T declares (its csv tags, as gocsv
// writes them) that header lacks.
func missingColumns[T any](t *testing.T, header []string) []string {
	t.Helper()
	declared, err := gocsv.MarshalString([]T{})
	if err != nil {
		t.Fatalf("gocsv cannot write %T: %v", *new(T), err)
	}
	var missing []string
	for _, col := range strings.Split(strings.TrimSuffix(declared, "\n"), ",") {
		if !slices.Contains(header, col) {
			missing = append(missing, col)
		}
	}
	return missing
}

// reportLines reads success.csv and errors.csv of a report folder: by
// export line, the file, the operation and the message of each report
// line (a row must be in one line of one file). A file that does not end
// in a newline holds a cut line: an error.
func reportLines(t *testing.T, dir string) (byLine map[int][]string) {
	t.Helper()
	byLine = map[int][]string{}
	for _, name := range []string{"success.csv", "errors.csv"} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			t.Errorf("%s ends in a cut line: %q", path, data[max(0, len(data)-80):])
		}
		for _, r := range readRows[report.OutcomeLine](t, path) {
			if n, err := strconv.Atoi(r.Line); err == nil {
				byLine[n] = append(byLine[n], name+" "+r.Operation+" "+r.Message)
			}
		}
	}
	return byLine
}

// checkEveryRow checks that each data line 2..last of an export is in
// exactly one line of the report files.
func checkEveryRow(t *testing.T, dir string, last int) map[int][]string {
	t.Helper()
	byLine := reportLines(t, dir)
	missing := 0
	for l := 2; l <= last; l++ {
		switch got := byLine[l]; {
		case len(got) == 0:
			if missing++; missing <= 5 {
				t.Errorf("line %d is in no report file of %s", l, filepath.Base(dir))
			}
		case len(got) > 1:
			t.Errorf("line %d is in %d report lines: %q", l, len(got), got)
		}
	}
	if missing > 5 {
		t.Errorf("… %d lines in no report file in all", missing)
	}
	return byLine
}

// TestReports_DuplicateLinesListed: both lines of a conflicting pair are
// in errors.csv, and the line merged into an identical earlier one is in
// the file of that line's outcome.
func TestReports_DuplicateLinesListed(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"run", "import"} {
		t.Run(kind, func(t *testing.T) { duplicateLinesListed(t, kind) })
	}
}

func duplicateLinesListed(t *testing.T, kind string) {
	e := newE2E(t, crmsim.Options{}, func(c string) string { return strings.Replace(c, "max_failures: 10%", "max_failures: 100%", 1) })
	data, _ := os.ReadFile(day1)
	text := string(data) +
		"C-1004;Hudson Wholesale;US;New York;12.000,00;USD;1;60;;T;W;;\r\n" + // line 12: identical to line 5
		"C-1003;Boutique Lumière bis;FR;Lyon;2.250,50;EUR;2;45;;T;R;;\r\n" // line 13: differs from line 4
	code, out, _ := e.run(kind, "-file", e.file("dups.csv", text))
	if code != ExitRowFails {
		t.Fatalf("exit %d\n%s", code, out)
	}
	dirs, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*"))
	byLine := checkEveryRow(t, dirs[len(dirs)-1], 13)
	if got := strings.Join(byLine[12], ""); !strings.HasPrefix(got, "success.csv") || !strings.Contains(got, "line 5") {
		t.Errorf("line 12 (merged into line 5): %q", byLine[12])
	}
	for _, l := range []int{4, 13} {
		if got := strings.Join(byLine[l], ""); !strings.HasPrefix(got, "errors.csv") || !strings.Contains(got, "lines 4, 13") {
			t.Errorf("line %d (conflicting pair): %q", l, byLine[l])
		}
	}
}

// TestReportLines_ByColumnName: the report files are read back by their
// columns' names (sync/report's OutcomeLine), not by position: a file
// whose columns come in another order reads the same, and one that lacks
// a declared column fails naming it.
func TestReportLines_ByColumnName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("success.csv", "message,line,reference,operation,error,http_status\ncreated,2,C-1,create,,201\n")
	write("errors.csv", "line,operation,reference,http_status,error,message\n3,update,C-2,422,invalid_field,bad email\n")
	byLine := reportLines(t, dir)
	if got := byLine[2]; len(got) != 1 || got[0] != "success.csv create created" {
		t.Errorf("line 2: %q, want the create read by its columns' names", got)
	}
	if got := byLine[3]; len(got) != 1 || got[0] != "errors.csv update bad email" {
		t.Errorf("line 3: %q", got)
	}
	if missing := missingColumns[report.OutcomeLine](t, []string{"operation", "reference", "line", "error", "message"}); !slices.Equal(missing, []string{"http_status"}) {
		t.Errorf("missing columns: %q, want http_status", missing)
	}
}
