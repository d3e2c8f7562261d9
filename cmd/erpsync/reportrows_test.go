package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// reportLines reads success.csv and errors.csv of a report folder: by
// export line, the file and the message of each report line, and every
// line's count (a row must be in one line of one file). A file that does
// not end in a newline holds a cut line: an error.
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
		recs := readCSV(t, path)
		if len(recs) == 0 {
			t.Errorf("%s has no header line", path)
			continue
		}
		for _, r := range recs[1:] {
			if n, err := strconv.Atoi(r[2]); err == nil {
				byLine[n] = append(byLine[n], name+" "+r[0]+" "+r[5])
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
