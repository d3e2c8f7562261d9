package compact_test

import (
	"path/filepath"
	"runtime"
	"testing"

	"erpsync/state/compact"
)

// TestOldMapSize: the checkpoint itself is read through a map only where
// its filesystem is known to be local; a path whose filesystem cannot be
// told is read without one.
func TestOldMapSize(t *testing.T) {
	if got := compact.OldMapSize(filepath.Join(t.TempDir(), "missing", "state.db")); got != 0 {
		t.Errorf("OldMapSize of a path statfs cannot read = %d, want 0", got)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the filesystems known local are Linux's")
	}
	if got := compact.OldMapSize("/proc/self/status"); got != 0 {
		t.Errorf("OldMapSize on procfs = %d, want 0 (not a local disk)", got)
	}
}
