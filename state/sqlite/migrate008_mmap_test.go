package sqlite_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// mapped says whether the file at path is mapped into this process's
// memory (Linux's /proc/self/maps).
func mapped(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if strings.HasSuffix(strings.TrimSpace(line), " "+path) {
			return true
		}
	}
	return false
}

// TestMigration008MapsOldFile: both connections copying the records read
// the old checkpoint through a memory map (SQLite's mmap_size), not a
// pread and a copy a page, as the last step reads the part file it merges
// and the new file it indexes; the migrated checkpoint holds every record.
func TestMigration008MapsOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	var main, part, merged atomic.Bool
	defer sqlite.SetCopyHook(100, func(copied int) error {
		switch copied {
		case 100:
			main.Store(mapped(t, path))
		case len(outs): // the last step: the part file merged, the indexes built
			merged.Store(mapped(t, path+"-migrate008") && mapped(t, path+"-migrate008-part2"))
		}
		return nil
	})()
	defer sqlite.SetPartHook(func(copied int) error {
		if copied == 100 {
			part.Store(mapped(t, path))
		}
		return nil
	})()
	db := sqlite.NewDB(path)
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !main.Load() || !part.Load() {
		t.Errorf("the old checkpoint mapped while copied: %v before the split, %v after it; want both", main.Load(), part.Load())
	}
	if !merged.Load() {
		t.Error("the new file and the part file are not both mapped by the last step, which reads them")
	}
	if n := countRows(t, path, "records"); n != len(outs) {
		t.Errorf("%d records migrated, want %d", n, len(outs))
	}
}

// TestWriteLegacy008RefusesCompacted: the legacy writer of the tests and
// the benchmark refuses a checkpoint migration 008 has compacted, whose
// records it would damage with JSON values.
func TestWriteLegacy008RefusesCompacted(t *testing.T) {
	t.Parallel()
	db := MustOpenDB(t)
	path := db.Path
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err := sqlite.WriteLegacy008(ctx, path, fixedNow, func(func(state.Outcome) bool) {})
	if err == nil || !strings.Contains(err.Error(), "compacted it already") {
		t.Fatalf("WriteLegacy008 on a compacted checkpoint = %v, want a refusal", err)
	}
}
