package page

import (
	"os"
	gosync "sync"
	"testing"
)

// The hooks of the page's tests (package page_test).

// CountRoots counts, until the test ends, the opens of reports.dir as an
// os.Root. The test must not run in parallel with others.
func CountRoots(t testing.TB) (count func() int) {
	var mu gosync.Mutex
	n := 0
	old := openRoot
	openRoot = func(dir string) (*os.Root, error) {
		mu.Lock()
		n++
		mu.Unlock()
		return old(dir)
	}
	t.Cleanup(func() { openRoot = old })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}
