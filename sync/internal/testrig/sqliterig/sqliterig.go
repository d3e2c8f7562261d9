// Package sqliterig links the SQLite checkpoint into testrig: a test
// package that imports it (import _ ".../testrig/sqliterig") runs
// testrig.Each on SQLite too, and may ask testrig.NewCheckpoint for
// testrig.SQLite. Only test binaries that need a checkpoint on disk
// import it: SQLite's cgo makes their link external (gcc,
// 1-1.5 CPU s more than a pure Go link).
package sqliterig

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync/internal/testrig"
)

func init() { testrig.Register(testrig.SQLite, Open) }

// Open is SQLite's testrig.Opener: a new checkpoint in the test's
// folder, closed at its end.
func Open(t testing.TB, now func() time.Time, heartbeat time.Duration) state.Checkpoint {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	db.Now, db.LockHeartbeat = now, heartbeat
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
