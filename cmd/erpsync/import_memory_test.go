package main

import (
	"runtime/debug"
	"testing"
)

// Guarantee (issue 25 §3, the import's peak RSS ≤ 250 MiB at 1M): an
// import plans under importLimit, then applies under a limit of its
// plan's size, lower: with GOGC 400 the heap of the apply otherwise grew
// to the plan's limit whatever it held. A plan too large for the lower
// limit keeps the plan's; restore gives back the limit from before.
func TestImportMemory_LowerOncePlanned(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	restore, planned := importMemory()
	if got := debug.SetMemoryLimit(-1); got != importLimit {
		t.Errorf("limit while planning %d, want %d", got, int64(importLimit))
	}
	planned(1_000_000)
	got := debug.SetMemoryLimit(-1)
	if got >= importLimit || got < 150<<20 {
		t.Errorf("limit of the apply of 1M rows: %d MiB, want under %d MiB and at least 150", got>>20, importLimit>>20)
	}
	planned(10_000_000)
	if got := debug.SetMemoryLimit(-1); got != importLimit {
		t.Errorf("limit of the apply of 10M rows: %d MiB, want the plan's %d MiB", got>>20, importLimit>>20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after restore %d, want %d", got, before)
	}
}

// Guarantee: GOMEMLIMIT in the environment is left to rule, planned too.
func TestImportMemory_EnvironmentRules(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "300MiB")
	before := debug.SetMemoryLimit(-1)
	restore, planned := importMemory()
	planned(1_000_000)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit %d with GOMEMLIMIT set, want it untouched (%d)", got, before)
	}
	restore()
}
