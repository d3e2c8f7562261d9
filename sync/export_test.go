package sync

import (
	gosync "sync"
	"testing"
)

// The hooks of the engine's tests (package sync_test).

// CountExportHashes counts, until the test ends, the exports hashed
// (inbox.FileSHA256 through fileSHA256) by path. The test must not run
// in parallel with others.
func CountExportHashes(t testing.TB) (count func(path string) int) {
	var mu gosync.Mutex
	n := map[string]int{}
	old := fileSHA256
	fileSHA256 = func(path string) (string, error) {
		mu.Lock()
		n[path]++
		mu.Unlock()
		return old(path)
	}
	t.Cleanup(func() { fileSHA256 = old })
	return func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return n[path]
	}
}
