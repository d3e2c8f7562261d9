package sync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/report"
)

// Issue 26 follow-up §6: the error of a run recorded without a run (a
// fetch that failed, a file rejected) is bounded in the run history and
// in summary.json, as every run's error is (state.MaxRunError).
func TestRecordNoRun_ErrorBounded(t *testing.T) {
	ctx, db, dir := noRunCheckpoint(t)
	why := errors.New("fetch x.csv: " + strings.Repeat("answer of the server ", 10_000))
	out, err := sync.RecordNoRun(ctx, db, filepath.Join(dir, "reports"), 0, report.CSV{}, "x.csv", "", why)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := db.Runs(ctx, 1)
	if err != nil || len(runs) != 1 || len(runs[0].Error) > state.MaxRunError+64 {
		t.Errorf("run history: %d bytes of error, %v; want at most %d", len(runs[0].Error), err, state.MaxRunError)
	}
	data, err := os.ReadFile(filepath.Join(out.Dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > state.MaxRunError+2048 || !strings.Contains(string(data), "bytes in all") {
		t.Errorf("summary.json: %d bytes; want the error cut to %d bytes and marked", len(data), state.MaxRunError)
	}
}

// Issue 24 §3 leftover: the header-only CSVs of an export that ended
// before its run (a fetch that failed, a poison pill) are written in
// reports.csv's format, as every other CSV erpsync writes for people.
func TestRecordNoRun_ReportsCSVFormat(t *testing.T) {
	ctx, db, dir := noRunCheckpoint(t)
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

// noRunCheckpoint opens a new checkpoint in a test's folder, closed at
// the test's end: where RecordNoRun records and writes its reports.
func noRunCheckpoint(t *testing.T) (context.Context, *sqlite.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "erpsync.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return context.Background(), db, dir
}
