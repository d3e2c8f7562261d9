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

// Issue 26 follow-up §6: the error of a run recorded without a run (a
// fetch that failed, a file rejected) is bounded in the run history and
// in summary.json, as every run's error is (state.MaxRunError).
func TestRecordNoRun_ErrorBounded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := state.NewDB(filepath.Join(dir, "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
