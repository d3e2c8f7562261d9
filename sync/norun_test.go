package sync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/report"
)

// Issue 24 §3 leftover: the header-only CSVs of an export that ended
// before its run (a fetch that failed, a poison pill) are written in
// reports.csv's format, as every other CSV erpsync writes for people.
func TestRecordNoRun_ReportsCSVFormat(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := state.NewDB(filepath.Join(dir, "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	format := report.CSV{BOM: true, Delimiter: ';'}
	out, err := sync.RecordNoRun(ctx, db, filepath.Join(dir, "reports"), 0, format, "x.csv", "", errors.New("fetch x.csv: refused"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"success.csv", "errors.csv"} {
		data, err := os.ReadFile(filepath.Join(out.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(string(data), "\n")
		if !strings.HasPrefix(head, "\ufeff") || !strings.Contains(head, ";") || strings.Contains(head, ",") {
			t.Errorf("%s: header %q; want a BOM and cells separated by ;", name, head)
		}
	}
}
