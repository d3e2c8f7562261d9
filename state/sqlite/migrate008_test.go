package sqlite_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// olderErpsyncWrites writes to the checkpoint at path what an older
// erpsync's run writes: a run, a deleted customer's audit copy, a changed
// record (C-0000005, below any resume point), a newer watermark.
func olderErpsyncWrites(t *testing.T, path string) {
	t.Helper()
	raw := rawDB(t, path)
	for _, s := range []string{
		`INSERT INTO runs (kind, file, file_sha256, status, started, ended) VALUES ('run', 'later.csv', 'abc', 'ok', 1700000000, 1700000100)`,
		`INSERT INTO deleted (reference, crm_id, copy, run_id, deleted_at) VALUES ('C-0000009', 10, '{"name":"audit copy"}', (SELECT max(id) FROM runs), 1700000050)`,
		`DELETE FROM records WHERE reference = 'C-0000009'`,
		`UPDATE records SET hash = 'changed-later', vals = '{"name":"Changed later"}' WHERE reference = 'C-0000005'`,
		`INSERT INTO meta (key, value) VALUES ('watermark', '2030-01-02T03:04:05Z') ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
	} {
		if _, err := raw.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	raw.Close()
}

// checkLaterWrites says whether the migrated checkpoint db holds the
// writes of olderErpsyncWrites.
func checkLaterWrites(t *testing.T, db *sqlite.DB, records int) {
	t.Helper()
	r, err := db.Get(ctx, "C-0000005")
	if err != nil || r == nil || r.Hash != "changed-later" || r.Values["name"] != "Changed later" {
		t.Errorf("C-0000005 after the migration = %+v, %v; want the older erpsync's change", r, err)
	}
	if r, err := db.Get(ctx, "C-0000009"); err != nil || r != nil {
		t.Errorf("C-0000009, deleted by the older erpsync = %+v, %v; want none", r, err)
	}
	var runs, audit, n int
	var mark string
	if err := rawDB(t, db.Path).QueryRowContext(ctx, `SELECT (SELECT count(*) FROM runs WHERE file = 'later.csv'),
		(SELECT count(*) FROM deleted WHERE copy LIKE '%audit copy%'), (SELECT count(*) FROM records),
		(SELECT value FROM meta WHERE key = 'watermark')`).Scan(&runs, &audit, &n, &mark); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || audit != 1 || n != records || mark != "2030-01-02T03:04:05Z" {
		t.Errorf("after the migration: %d later runs, %d audit copies, %d records, watermark %q; want 1, 1, %d, the later one",
			runs, audit, n, mark, records)
	}
}

// TestMigration008OldWritesMeanwhile: a migration stopped (as a kill
// would) once the new file is complete, or after two batches, and an
// older erpsync writing to the checkpoint before the next upgrade: the
// new file is not installed as it was, the migrated checkpoint holds
// those writes.
func TestMigration008OldWritesMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		killAt string // a step, or "" after two batches
	}{{"complete", "complete"}, {"partial", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			outs := legacyOutcomes()
			legacyCheckpoint(t, path, slices.Values(outs))
			errKilled := errors.New("killed")
			armed := true
			defer sqlite.SetCopyHook(100, func(copied int) error {
				if armed && tc.killAt == "" && copied == 200 {
					armed = false
					return errKilled
				}
				return nil
			})()
			defer sqlite.SetStepHook(func(step string) error {
				if armed && step == tc.killAt {
					armed = false
					return errKilled
				}
				return nil
			})()
			db := sqlite.NewDB(path)
			db.Now = func() time.Time { return fixedNow }
			if err := db.Open(ctx); !errors.Is(err, errKilled) {
				t.Fatalf("Open stopped by the hook: %v", err)
			}
			if _, err := os.Stat(path + "-migrate008"); err != nil {
				t.Fatalf("the new file after the stop: %v", err)
			}
			olderErpsyncWrites(t, path)
			db = sqlite.NewDB(path)
			db.Now = func() time.Time { return fixedNow }
			var logged []string
			db.Log = func(msg string) { logged = append(logged, msg) }
			if err := db.Open(ctx); err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if len(logged) != 1 || !strings.Contains(logged[0], "starts again") {
				t.Errorf("logged %q, want the copy started again, once", logged)
			}
			checkLaterWrites(t, db, len(outs)-1)
		})
	}
}

// TestMigration008RunHoldsCheckpoint: an older erpsync's run holding the
// checkpoint's lock, alive, stops the migration, the checkpoint left as
// it was; released, the migration runs.
func TestMigration008RunHoldsCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()[:300]
	legacyCheckpoint(t, path, slices.Values(outs))
	defer sqlite.SetCopyHook(100, nil)()
	old := sqlite.NewDB(path)
	sqlite.SetStopBefore(old, "migrations/008")
	if err := old.Open(ctx); err != nil {
		t.Fatal(err)
	}
	lock, err := old.Acquire(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(path)
	err = db.Open(ctx)
	db.Close()
	if err == nil || !strings.Contains(err.Error(), "a run holds the checkpoint") {
		t.Fatalf("Open while a run holds the checkpoint = %v, want an error naming it", err)
	}
	if _, err := os.Stat(path + "-migrate008"); err == nil {
		t.Errorf("a new file was written while a run held the checkpoint")
	}
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	checkLegacy(t, path, len(outs))
	db = sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := countRows(t, path, "records"); n != len(outs) {
		t.Errorf("%d records migrated, want %d", n, len(outs))
	}
}

// TestMigration008DamagedCheckpoint: a checkpoint of before 008 with a
// damaged page is refused at Open, before the migration copies it, and
// left byte for byte as it was, no new file beside it.
func TestMigration008DamagedCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 16384
	if len(data) < 8*page {
		t.Fatalf("the checkpoint is %d bytes, too small to damage a records page", len(data))
	}
	for i := 4 * page; i < 5*page; i++ { // a page of the records, past the schema
		data[i] = 0xA5
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, path)
	db := sqlite.NewDB(path)
	err = db.Open(ctx)
	db.Close()
	var ue *state.UnusableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "corrupt") {
		t.Errorf("Open of a damaged checkpoint of before 008 = %v, want an *UnusableError saying corrupt", err)
	}
	if after := snapshot(t, path); after != before {
		t.Errorf("the damaged checkpoint was changed")
	}
	if _, err := os.Stat(path + "-migrate008"); err == nil {
		t.Errorf("the damaged checkpoint was copied into %s", path+"-migrate008")
	}
}

// TestMigration008DamagedIndex: a checkpoint of before 008 whose damage
// is in a page the copy does not read (an index of the records): the
// check of its pages, beside the copy, refuses it before the install;
// it is left byte for byte as it was, no new file nor mark beside it.
func TestMigration008DamagedIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	raw := rawDB(t, path)
	var root, pageSize int
	if err := raw.QueryRowContext(ctx, `SELECT (SELECT rootpage FROM sqlite_schema WHERE name = 'records_known'),
		(SELECT page_size FROM pragma_page_size())`).Scan(&root, &pageSize); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The index's root page: its b-tree page header says no page type.
	if _, err := f.WriteAt([]byte{0x42, 0x42, 0x42, 0x42}, int64((root-1)*pageSize)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, path)
	defer sqlite.SetCopyHook(100, nil)()
	db := sqlite.NewDB(path)
	err = db.Open(ctx)
	db.Close()
	var ue *state.UnusableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "corrupt") {
		t.Errorf("Open of a checkpoint of before 008 with a damaged index = %v, want an *UnusableError saying corrupt", err)
	}
	if after := snapshot(t, path); after != before {
		t.Errorf("the damaged checkpoint was changed")
	}
	for _, p := range []string{path + "-migrate008", path + "-migrate008-boot"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left beside the damaged checkpoint: %v", p, err)
		}
	}
}

// TestMigration008RecordRemovedMeanwhile: a record below the resume point
// removed from the checkpoint between two copies, with no run recorded:
// the complete new file's count differs, it is copied again.
func TestMigration008RecordRemovedMeanwhile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	errKilled := errors.New("killed")
	armed := true
	defer sqlite.SetCopyHook(100, func(copied int) error {
		if armed && copied == 200 {
			armed = false
			return errKilled
		}
		return nil
	})()
	if err := sqlite.NewDB(path).Open(ctx); !errors.Is(err, errKilled) {
		t.Fatalf("Open stopped by the hook: %v", err)
	}
	if _, err := rawDB(t, path).ExecContext(ctx, `DELETE FROM records WHERE reference = 'C-0000005'`); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if r, err := db.Get(ctx, "C-0000005"); err != nil || r != nil {
		t.Errorf("C-0000005, removed meanwhile = %+v, %v; want none", r, err)
	}
	if n := countRows(t, path, "records"); n != len(outs)-1 {
		t.Errorf("%d records migrated, want %d", n, len(outs)-1)
	}
}

// TestMigration008CopyOfAnEarlierBoot: the new file is copied into
// without syncing it, within one boot of the machine; a partial or
// complete copy left by an earlier boot (the machine may have stopped
// before the disk held it) is not taken up: it is copied again, and
// every value comes back. Within the same boot it is taken up.
func TestMigration008CopyOfAnEarlierBoot(t *testing.T) {
	outs := legacyOutcomes()
	for _, tc := range []struct {
		name   string
		killAt string // a step, or "" after two batches
		boot2  string
		after  int // records copied after the stop
		logged int // copies started again
	}{
		{"partial, same boot", "", "boot-1", len(outs) - 200, 0},
		{"partial, another boot", "", "boot-2", len(outs), 1},
		{"complete, same boot", "complete", "boot-1", 0, 0},
		{"complete, another boot", "complete", "boot-2", len(outs), 1},
		{"partial, boot unknown after", "", "", len(outs), 1}, // a restricted /proc
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			legacyCheckpoint(t, path, slices.Values(outs))
			errKilled := errors.New("killed")
			armed, after := true, -1
			defer sqlite.SetCopyHook(100, func(copied int) error {
				if armed && tc.killAt == "" && copied == 200 {
					armed = false
					return errKilled
				}
				if !armed {
					after = copied
				}
				return nil
			})()
			defer sqlite.SetStepHook(func(step string) error {
				if armed && step == tc.killAt {
					armed = false
					return errKilled
				}
				return nil
			})()
			restore := sqlite.SetBootID("boot-1")
			if err := sqlite.NewDB(path).Open(ctx); !errors.Is(err, errKilled) {
				t.Fatalf("Open stopped by the hook: %v", err)
			}
			restore()
			defer sqlite.SetBootID(tc.boot2)()
			db := sqlite.NewDB(path)
			var logged []string
			db.Log = func(msg string) { logged = append(logged, msg) }
			if err := db.Open(ctx); err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if after != tc.after {
				t.Errorf("%d records copied after the stop, want %d", after, tc.after)
			}
			if len(logged) != tc.logged || len(logged) > 0 && !strings.Contains(logged[0], "starts again") {
				t.Errorf("logged %q, want %d copy started again", logged, tc.logged)
			}
			checkMigrated(t, db, outs)
			if _, err := os.Stat(path + "-migrate008-boot"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the new file's mark left after the migration: %v", err)
			}
		})
	}
}

// TestMigration008NewFileReplacedBeforeInstall: the new file's name leads
// to another file by the time of the install (another host's erpsync,
// which cannot know this boot, removed the copy and began its own): the
// file now at that name is not installed over the checkpoint; the next
// start migrates.
func TestMigration008NewFileReplacedBeforeInstall(t *testing.T) {
	outs := legacyOutcomes()
	path := filepath.Join(t.TempDir(), "old.db")
	legacyCheckpoint(t, path, slices.Values(outs))
	restore := sqlite.SetStepHook(func(step string) error {
		if step != "complete" {
			return nil
		}
		next := path + "-migrate008"
		if err := os.Remove(next); err != nil {
			return err
		}
		return os.WriteFile(next, nil, 0o600) // another host's copy, just begun
	})
	if err := sqlite.NewDB(path).Open(ctx); err == nil || !strings.Contains(err.Error(), "replaced meanwhile") {
		t.Fatalf("Open with the new file replaced before the install: %v; want it refused", err)
	}
	restore()
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkMigrated(t, db, outs)
}
