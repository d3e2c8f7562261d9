package sqlite_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"erpsync/state/sqlite"
)

// stopPartCopy opens the legacy checkpoint at path for migration 008 (a
// batch of 100 records) and stops the copy of the records after its
// split once it holds 100 of them, as a kill would.
func stopPartCopy(t *testing.T, path string) {
	t.Helper()
	errKilled := errors.New("killed")
	armed := true
	defer sqlite.SetCopyHook(100, nil)()
	defer sqlite.SetPartHook(func(copied int) error {
		if armed && copied == 100 {
			armed = false
			return errKilled
		}
		return nil
	})()
	db := sqlite.NewDB(path)
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); !errors.Is(err, errKilled) {
		t.Fatalf("Open stopped in the copy after the split: %v", err)
	}
}

// TestMigration008SplitCopy: the records of a checkpoint of several
// batches are copied on two connections, those after a split into a file
// of their own beside the new file (its copy committed a batch at a
// time); stopped there, the checkpoint is as it was, and the next start
// goes on from both copies, merges them and migrates every record.
func TestMigration008SplitCopy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	stopPartCopy(t, path)
	part, next := path+"-migrate008-part2", path+"-migrate008"
	if n := countRows(t, part, "records_v8"); n != 100 {
		t.Errorf("%s holds %d records after the stop, want 100", part, n)
	}
	below, above := splitCounts(t, next, part)
	if below == 0 || below >= len(outs) || above != 0 {
		t.Errorf("the new file holds %d records, %d of them after the split's first: want the first part only", below, above)
	}
	checkLegacy(t, path, len(outs))
	db := sqlite.NewDB(path)
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkMigrated(t, db, outs)
	if _, err := os.Stat(part); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left after the migration: %v", part, err)
	}
}

// splitCounts counts the records of the new file at next, and those of
// the part at or before its last one.
func splitCounts(t *testing.T, next, part string) (below, above int) {
	t.Helper()
	raw := rawDB(t, next)
	raw.SetMaxOpenConns(1)
	if _, err := raw.ExecContext(ctx, `ATTACH DATABASE ? AS p2`, part); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM records_v8),
		(SELECT count(*) FROM p2.records_v8 WHERE reference <= (SELECT max(reference) FROM records_v8))`).Scan(&below, &above); err != nil {
		t.Fatal(err)
	}
	return below, above
}

// TestMigration008PartOfAnotherCopy: a file of records after the split
// left by another copy (its new file removed meanwhile, its records not
// the checkpoint's) is not merged: it is emptied and copied again.
func TestMigration008PartOfAnotherCopy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	stopPartCopy(t, path)
	part := path + "-migrate008-part2"
	if _, err := rawDB(t, part).ExecContext(ctx, `UPDATE records_v8 SET row_sum = 424242`); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + "-migrate008"); err != nil {
		t.Fatal(err)
	}
	defer sqlite.SetCopyHook(100, nil)() // split again
	db := sqlite.NewDB(path)
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkMigrated(t, db, outs)
}

// TestMigration008CopiesPrivate: the new file and the part file, which
// hold every customer's values, are readable by their owner only, as
// the checkpoint is.
func TestMigration008CopiesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	legacyCheckpoint(t, path, slices.Values(legacyOutcomes()))
	stopPartCopy(t, path)
	for _, p := range []string{path + "-migrate008", path + "-migrate008-part2"} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want -rw-------", p, st.Mode(), err)
		}
	}
}
