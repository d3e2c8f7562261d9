package serve

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync"
	"erpsync/sync/inbox"
	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// TestWorker_ListingFailureTold: a source that cannot be listed (an S3
// bucket that is not there) is a failed tick: recorded in the run history
// and told (NoRun: notify's failed and heartbeat /fail) once while it
// fails the same way; once it lists again, a new failure is told again.
func TestWorker_ListingFailureTold(t *testing.T) {
	ctx := context.Background()
	srv := sourcetest.NewS3Server(t, "erp")
	cfg := source.DefaultSettings()
	cfg.S3.Endpoint = srv.URL
	st, err := source.Open(ctx, "s3://gone/inbox/*.csv", cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, db, told := listingWorker(t, st, "a source that cannot be listed")
	for range 3 {
		w.tick(ctx)
	}
	if len(*told) != 1 || !strings.Contains((*told)[0], "gone") {
		t.Fatalf("three ticks that cannot list told %q, want the source once", *told)
	}
	runs, err := db.Runs(ctx, 0)
	if err != nil || len(runs) != 1 || runs[0].Status != state.StatusFailed || !strings.Contains(runs[0].Error, "gone") {
		t.Fatalf("run history %+v, %v: want one failed run naming the source", runs, err)
	}
	if err := srv.Backend.CreateBucket("gone"); err != nil {
		t.Fatal(err)
	}
	w.tick(ctx) // lists again: nothing to take
	if err := srv.Backend.DeleteBucket("gone"); err != nil {
		t.Fatal(err)
	}
	w.tick(ctx)
	w.tick(ctx)
	if len(*told) != 2 {
		t.Errorf("the listing failed again after it worked: told %d times, want 2", len(*told))
	}
}

// listingWorker is a worker on st whose runs must not start (the test
// says why), with a checkpoint of its own; told collects the sources its
// NoRun was told of.
func listingWorker(t *testing.T, st source.Store, why string) (*Worker, *memstate.Mem, *[]string) {
	t.Helper()
	dir := t.TempDir()
	db := memstate.New()
	t.Cleanup(func() { _ = db.Close() })
	told := new([]string)
	w := &Worker{Inbox: &inbox.Inbox{Store: st, Ledger: &inbox.Ledger{Path: inbox.LedgerPath(filepath.Join(dir, "erpsync.db"))}},
		Metrics: NewMetrics(), Log: zap.NewNop(), Checkpoint: db, ReportsDir: filepath.Join(dir, "reports"),
		Sync: func(context.Context, *inbox.Export) (*sync.Outcome, error) {
			t.Error("a run started with " + why)
			return nil, nil
		},
		NoRun: func(_ context.Context, src string, out *sync.Outcome, why error) {
			if out == nil || out.RunID == 0 || why == nil {
				t.Errorf("told %s without its record: %+v, %v", src, out, why)
			}
			*told = append(*told, src)
		}}
	return w, db, told
}
