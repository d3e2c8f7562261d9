package sync_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/sync/report"
)

// TestRun_RepeatedRowsPastTheTenthListed: the plan keeps ten lines of a
// repeated reference, but every row still ends in one report line: 12
// identical rows of R are 12 lines of success.csv (one sent, 11 merged),
// 12 differing rows of R are 12 invalid_row lines of errors.csv.
func TestRun_RepeatedRowsPastTheTenthListed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		value func(i int) string
	}{
		{"identical", "success.csv", func(int) string { return "Same" }},
		{"differing", "errors.csv", func(i int) string { return fmt.Sprint("Name ", i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCSVJob(t, csvConfig())
			export := []string{"reference;name;parent;email", "OTHER;Other;;"}
			for i := range 12 {
				export = append(export, "R;"+tc.value(i)+";;")
			}
			out, err := c.run(t, export...)
			if out == nil {
				t.Fatalf("run: %v", err)
			}
			lines := map[string]bool{}
			for _, l := range outcomeLines(t, out, tc.file) {
				if l.Reference == "R" {
					if lines[l.Line] {
						t.Errorf("line %s of R listed twice", l.Line)
					}
					lines[l.Line] = true
				}
			}
			for l := 3; l <= 14; l++ {
				if !lines[fmt.Sprint(l)] {
					t.Errorf("line %d of R is not in %s (%d lines of R there)", l, tc.file, len(lines))
				}
			}
			raw, err := os.ReadFile(filepath.Join(out.Dir, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			var s report.Summary
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			if got := s.Rows.Merged + s.Rows.Invalid + s.Rows.Sent; got != 13 {
				t.Errorf("summary: %+v, want 13 rows sent, merged or invalid", *s.Rows)
			}
		})
	}
}

// TestRun_RepeatedRowsListedWithinBound: past reports.max_errors lines
// listed at the run's end, a repeated reference's other rows are counted
// in one line (a .gz of millions of identical rows keeps small reports).
func TestRun_RepeatedRowsListedWithinBound(t *testing.T) {
	c := newCSVJob(t, csvConfig())
	c.job.Settings.MaxErrors = 2
	export := []string{"reference;name;parent;email"}
	for range 15 {
		export = append(export, "R;Same;;")
	}
	out, err := c.run(t, export...)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	recs := outcomeLines(t, out, "success.csv")
	if len(recs) != 13 || recs[12].Error != "more_merged" || !strings.HasPrefix(recs[12].Message, "3 more lines") {
		t.Errorf("success.csv: %+v, want 12 lines of R and one counting 3 more", recs)
	}
}
