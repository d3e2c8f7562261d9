package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/state/statetest"
)

// TestDB_Contract runs the checkpoint's contract on the SQLite
// implementation.
func TestDB_Contract(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	statetest.Run(t, func(t *testing.T, now func() time.Time) state.Checkpoint {
		db := sqlite.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
		db.Now = now
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
