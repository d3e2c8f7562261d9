package sqlite_test

import (
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/statetest"
)

// TestDB_Contract runs the checkpoint's contract on the SQLite
// implementation.
func TestDB_Contract(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	statetest.Run(t, func(t *testing.T, now func() time.Time) state.Checkpoint {
		return mustOpenAt(t, newFile(t), now)
	})
}
