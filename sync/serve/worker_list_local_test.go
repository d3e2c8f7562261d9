package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/state"
	"erpsync/sync/source"
)

// TestWorker_LocalListingFailureTold: a local inbox that cannot be read
// (here a folder that is a file: ENOTDIR; a folder of mode 000 does the
// same for any user but root) is a failed tick, told once, as an S3 or
// SFTP listing that fails (TestWorker_ListingFailureTold); it no longer
// lists as an empty inbox. Once it reads again, nothing is told.
func TestWorker_LocalListingFailureTold(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	inboxDir := filepath.Join(dir, "inbox")
	if err := os.WriteFile(inboxDir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := source.Open(ctx, filepath.Join(inboxDir, "*.csv"), source.DefaultSettings(), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, db, told := listingWorker(t, st, "an inbox that cannot be read")
	for range 3 {
		w.tick(ctx)
	}
	if len(*told) != 1 || !strings.Contains((*told)[0], "inbox") {
		t.Fatalf("three ticks that cannot read the inbox told %q, want the source once", *told)
	}
	runs, err := db.Runs(ctx, 0)
	if err != nil || len(runs) != 1 || runs[0].Status != state.StatusFailed || !strings.Contains(runs[0].Error, "not a directory") {
		t.Fatalf("run history %+v, %v: want one failed run saying why", runs, err)
	}
	if err := os.Remove(inboxDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(inboxDir, 0o750); err != nil {
		t.Fatal(err)
	}
	w.tick(ctx) // reads again: nothing to take
	if len(*told) != 1 {
		t.Errorf("an empty inbox was told: %q", *told)
	}
}
