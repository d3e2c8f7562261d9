package page_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/sync/page"
)

// TestPage_OneRootPerRequest: a page lists the report files of every run
// shown and looks for a held export's plan.json through one os.Root of
// reports.dir a request, not one per run or per file.
func TestPage_OneRootPerRequest(t *testing.T) {
	f := newFixture(t)
	folder := "20261206T030000.000Z-2" // run 2: inbox/day2.csv, held, with its plan
	mustWrite(t, filepath.Join(f.reports, folder, "plan.json"), `{"plan":"waits"}`)
	mustWrite(t, filepath.Join(f.reports, folder, "summary.json"), `{"status":"aborted"}`)
	roots := page.CountRoots(t)
	code, body, _ := get(t, f.url+"/")
	for _, want := range []string{`href="reports/` + f.folder + `/summary.json"`, `href="reports/` + folder + `/summary.json"`,
		`href="reports/` + folder + `/plan.json"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := roots(); code != http.StatusOK || n != 1 {
		t.Errorf("GET /: %d, %d opens of reports.dir; want 1", code, n)
	}
	if code, _, _ := get(t, f.url+"/reports/"+folder+"/plan.json"); code != http.StatusOK || roots() != 2 {
		t.Errorf("GET plan.json: %d, %d opens in all; want one more", code, roots())
	}
}
