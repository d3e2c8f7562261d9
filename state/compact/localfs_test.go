package compact_test

import (
	"path/filepath"
	"runtime"
	"testing"

	"erpsync/state/compact"
)

// TestMapSizeFor: migration 008 reads through a map only where
// its filesystem is known to be local; a path whose filesystem cannot be
// told is read without one.
func TestMapSizeFor(t *testing.T) {
	if got := compact.MapSizeFor(filepath.Join(t.TempDir(), "missing", "state.db")); got != 0 {
		t.Errorf("MapSizeFor of a path statfs cannot read = %d, want 0", got)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the filesystems known local are Linux's")
	}
	if got := compact.MapSizeFor("/proc/self/status"); got != 0 {
		t.Errorf("MapSizeFor on procfs = %d, want 0 (not a local disk)", got)
	}
}
