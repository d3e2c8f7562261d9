package sqlite

import (
	"erpsync/state"
	"time"
)

// DB is the SQLite checkpoint.
var (
	_ state.Checkpoint = (*DB)(nil)
	_ state.Inspector  = (*DB)(nil)
)

// Clock is the time on the checkpoint's clock (Now).
func (db *DB) Clock() time.Time {
	if db.Now == nil {
		return time.Now()
	}
	return db.Now()
}
