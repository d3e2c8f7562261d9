package sync_test

import (
	"testing"

	"erpsync/sync/internal/testrig"
)

// TestSQLiteLinked: the engine's guarantees (testrig.Each) are shown on
// SQLite as well as memstate only while this binary imports
// sync/internal/testrig/sqliterig (sqliterig_test.go); without it Each
// would skip SQLite and the guarantees would pass on memstate alone.
func TestSQLiteLinked(t *testing.T) {
	t.Parallel()
	if !testrig.Has(testrig.SQLite) {
		t.Fatal(`SQLite is not registered with testrig: import _ "erpsync/sync/internal/testrig/sqliterig" in package sync's tests`)
	}
}
