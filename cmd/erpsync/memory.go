package main

import (
	"context"
	"os"
	"runtime/debug"

	"erpsync/state"
	"erpsync/sync"
)

// planMemory sets the process's soft memory limit for a run or a plan
// against db (sync.PlanMemoryLimit of its managed references), unless
// GOMEMLIMIT is set in the environment; it returns what restores the
// limit before. A checkpoint that cannot be counted leaves the limit as
// it is: the run's own reads will say why.
func planMemory(ctx context.Context, db *state.DB) (restore func()) {
	if db == nil || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	n, err := db.Count(ctx)
	if err != nil {
		return func() {}
	}
	before := debug.SetMemoryLimit(sync.PlanMemoryLimit(n))
	return func() { debug.SetMemoryLimit(before) }
}
