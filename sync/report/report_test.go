package report_test

import (
	"os"
	"path/filepath"
	"testing"

	"erpsync/sync/report"
)

func TestSafeCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ACME", "ACME"},
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"+33 1 23 45 67 89", "'+33 1 23 45 67 89"}, // a phone number is text
		{"-2+3", "'-2+3"},
		{"\tx", "'\tx"},
		{"-5", "-5"}, // numbers stay numbers
		{"-133.55", "-133.55"},
		{"+2e3", "+2e3"},
		{"12000", "12000"},
		{"-", "'-"},
		{"-.", "'-."},
		{"-1e", "'-1e"},
		{"-Inf", "'-Inf"},
	} {
		if got := report.SafeCell(tc.in); got != tc.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestNewRunReport_NeverOverwrites: two runs that would take the same
// folder (two configs sharing reports.dir, each with its run 1) get two.
func TestNewRunReport_NeverOverwrites(t *testing.T) {
	parent := t.TempDir()
	a, err := report.New(parent, "20261201T020000.000Z-1", 0, report.CSV{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := report.New(parent, "20261201T020000.000Z-1", 0, report.CSV{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Dir == b.Dir {
		t.Fatalf("both reports in %s", a.Dir)
	}
	for _, r := range []*report.Run{a, b} {
		if err := r.Close(report.Summary{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(r.Dir, "summary.json")); err != nil {
			t.Error(err)
		}
	}
}
