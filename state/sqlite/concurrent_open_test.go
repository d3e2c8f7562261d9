package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	gosync "sync"
	"testing"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// TestOpen_TwoAtOnceOnAFreshFile: two runs started together on a fresh
// state file both open it (the migrations are applied once), and one
// gets the lock while the other gets the lock's message, never "table
// records already exists" or "database is locked".
func TestOpen_TwoAtOnceOnAFreshFile(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "erpsync.db")
		var wg gosync.WaitGroup
		errs := make([]error, 2)
		dbs := make([]*sqlite.DB, 2)
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				db := sqlite.NewDB(path)
				if err := db.Open(context.Background()); err != nil {
					errs[i] = err
					return
				}
				dbs[i] = db
				_, errs[i] = db.Acquire(context.Background(), "run")
			}()
		}
		close(start)
		wg.Wait()
		won, locked := 0, 0
		for _, err := range errs {
			var le *state.LockedError
			switch {
			case err == nil:
				won++
			case errors.As(err, &le):
				locked++
			default:
				t.Errorf("round %d: %v", round, err)
			}
		}
		if won != 1 || locked != 1 {
			t.Errorf("round %d: %d won, %d got the lock message; want 1 and 1", round, won, locked)
		}
		for _, db := range dbs {
			if db != nil {
				db.Close()
			}
		}
	}
}
