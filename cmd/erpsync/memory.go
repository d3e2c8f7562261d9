package main

import (
	"context"
	"os"
	"runtime/debug"
	gosync "sync"

	"erpsync/state/sqlite"
	"erpsync/sync/plan"
)

// processMemory is false in package main's tests alone (TestMain): their
// commands run side by side in the test process, where each run set the
// process's soft memory limit to its own (56 MiB for a small checkpoint),
// every test's heap under it, and the collector took a fifth of the
// tests' CPU. Nothing else sets it: the erpsync binary, its process
// tests included, always sets its limits as below.
var processMemory = true

// planMemory sets the process's soft memory limit for a run or a plan
// against db (plan.MemoryLimit of its managed references), unless
// GOMEMLIMIT is set in the environment; it returns what restores the
// limit before. A checkpoint that cannot be counted leaves the limit as
// it is: the run's own reads will say why.
func planMemory(ctx context.Context, db *sqlite.DB) (restore func()) {
	if db == nil || !processMemory || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	n, err := db.Count(ctx)
	if err != nil {
		return func() {}
	}
	before := debug.SetMemoryLimit(plan.MemoryLimit(n))
	var once gosync.Once
	return func() { once.Do(func() { debug.SetMemoryLimit(before) }) }
}

// bigPlan is how many actions make a plan hold more than the checkpoint's
// share of memory: a run after a mapping change updates every customer,
// and a first run that is not an import creates them all, each action
// with its customer and changes. Such a run drops the soft limit once
// planned (the collector would otherwise run for most of the apply).
const bigPlan = 100_000
