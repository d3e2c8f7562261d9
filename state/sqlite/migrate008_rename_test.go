package sqlite_test

import (
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"erpsync/state/sqlite"
)

// TestMigration008RenameInstall: with no other connection to the
// checkpoint, migration 008 renames the complete new file over it.
// Stopped (as a kill would) after each step of that install, the file at
// the checkpoint's name is the old checkpoint, whole (an older erpsync
// opens it), or the migrated one; the next start migrates it, or finds
// it migrated.
func TestMigration008RenameInstall(t *testing.T) {
	outs := legacyOutcomes()
	for _, step := range []string{"exclusive", "synced", "renamed"} {
		t.Run(step, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			legacyCheckpoint(t, path, slices.Values(outs))
			errKilled := errors.New("killed")
			restore := sqlite.SetStepHook(func(s string) error {
				if s == step {
					return errKilled
				}
				return nil
			})
			db := sqlite.NewDB(path)
			db.Now = func() time.Time { return fixedNow }
			err := db.Open(ctx)
			restore()
			if !errors.Is(err, errKilled) {
				t.Fatalf("Open stopped by the hook at %s: %v", step, err)
			}
			if step != "renamed" {
				checkLegacy(t, path, len(outs))
			}
			db = sqlite.NewDB(path)
			db.Now = func() time.Time { return fixedNow }
			if err := db.Open(ctx); err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkMigrated(t, db, outs)
			for _, p := range []string{path + "-migrate008", path + "-migrate008-boot"} {
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s left after the migration: %v", p, err)
				}
			}
		})
	}
}

// TestMigration008RenameInstallOldFileUnreadable: a connection that
// opened the checkpoint before its rename over it, and reads only after,
// finds no database in the old file instead of its old records.
func TestMigration008RenameInstallOldFileUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	old, err := os.Open(path) // the old file, as an opener before the rename holds it
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	head := make([]byte, 16)
	if _, err := old.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	if string(head) == "SQLite format 3\x00" {
		t.Errorf("the old file, renamed over, still reads as SQLite")
	}
}

// TestMigration008RenameInstallWriterPragmas: the writer's connection,
// closed by the install (it held the old file), comes back with its
// pragmas: the WAL copied into the file every 10,000 pages, not 1,000.
func TestMigration008RenameInstallWriterPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	legacyCheckpoint(t, path, slices.Values(legacyOutcomes()))
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := sqlite.WALAutocheckpoint(db); err != nil || n != 10000 {
		t.Errorf("the writer's wal_autocheckpoint after the migration = %d, %v; want 10000", n, err)
	}
}

// TestMigration008SymlinkedCheckpoint: a checkpoint reached through a
// symbolic link is installed over where the link leads (the backup), the
// link kept: a rename would replace the link.
func TestMigration008SymlinkedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "data.db"), filepath.Join(dir, "state.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, target, slices.Values(outs))
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(link)
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s after the migration: %v, %v; want the link kept", link, st.Mode(), err)
	}
	checkMigrated(t, db, outs)
}

// TestMigration008RenameKeepsMode: the migrated checkpoint keeps the
// old one's permissions (0600 as erpsync creates it), not those SQLite
// gives the new file.
func TestMigration008RenameKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	legacyCheckpoint(t, path, slices.Values(legacyOutcomes()))
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the migrated checkpoint's mode = %v, %v; want -rw-------", st.Mode(), err)
	}
}

// TestMigration008WriteAfterCompared: another process writes to the
// checkpoint after the install's comparison and before the install
// itself (the "compared" step), then closes it (the rename installs) or
// keeps it open (the backup installs). The write is kept: that install
// finds the checkpoint changed, the copy starts again.
func TestMigration008WriteAfterCompared(t *testing.T) {
	outs := legacyOutcomes()
	for _, held := range []bool{false, true} {
		t.Run(map[bool]string{false: "closed", true: "held"}[held], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			legacyCheckpoint(t, path, slices.Values(outs))
			other, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			other.SetMaxOpenConns(1)
			armed := true
			defer sqlite.SetStepHook(func(step string) error {
				if step != "compared" || !armed {
					return nil
				}
				armed = false
				if _, err := other.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('written_meanwhile', 'yes')`); err != nil {
					return err
				}
				if !held {
					return other.Close()
				}
				return nil
			})()
			db := sqlite.NewDB(path)
			var logged []string
			db.Log = func(msg string) { logged = append(logged, msg) }
			db.Now = func() time.Time { return fixedNow }
			if err := db.Open(ctx); err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if armed {
				t.Fatal("the compared step was not reached")
			}
			if len(logged) != 1 || !strings.Contains(logged[0], "starts again") {
				t.Errorf("logged %q, want the copy started again once", logged)
			}
			var v string
			if err := rawDB(t, path).QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'written_meanwhile'`).Scan(&v); err != nil {
				t.Errorf("the write after the comparison: %v; want it kept", err)
			}
			checkMigrated(t, db, outs)
		})
	}
}

// TestMigration008RenameKeepsNewFileLocked: the new file's write lock,
// held through the install (another process finishing the same
// migration waits for it), is still this process's POSIX lock once the
// new file is synced: closing any descriptor of a file drops them all.
// Read from /proc/locks (a lock of this process, seen from it).
func TestMigration008RenameKeepsNewFileLocked(t *testing.T) {
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skipf("no /proc/locks: %v", err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	seen := false
	defer sqlite.SetStepHook(func(step string) error {
		if step != "synced" {
			return nil
		}
		seen = true
		var st syscall.Stat_t
		if err := syscall.Stat(path+"-migrate008", &st); err != nil {
			return err
		}
		locks, err := os.ReadFile("/proc/locks")
		if err != nil {
			return err
		}
		pid, ino := strconv.Itoa(os.Getpid()), ":"+strconv.FormatUint(st.Ino, 10)
		for line := range strings.Lines(string(locks)) {
			f := strings.Fields(line)
			if len(f) >= 6 && f[1] == "POSIX" && f[3] == "WRITE" && f[4] == pid && strings.HasSuffix(f[5], ino) {
				return nil
			}
		}
		t.Errorf("no write lock of this process on the new file once synced:\n%s", locks)
		return nil
	})()
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !seen {
		t.Fatal("the synced step was not reached")
	}
	checkMigrated(t, db, outs)
}

// TestMigration008HardLinkedCheckpoint: a checkpoint with another name
// (a hard link) is not renamed over, which would leave that name on the
// old file, made unreadable: copied over (the backup), both names lead
// to the one file, migrated.
func TestMigration008HardLinkedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "old.db"), filepath.Join(dir, "other.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	if err := os.Link(path, other); err != nil {
		t.Skipf("no hard link: %v", err)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	// Closed with no connection left (checkMigrated's raw one would be
	// open till the end): the WAL is removed, the other name may open.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	a, errA := os.Stat(path)
	b, errB := os.Stat(other)
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		t.Errorf("the two names lead to different files after the migration (%v, %v)", errA, errB)
	}
	db = sqlite.NewDB(other)
	if err := db.Open(ctx); err != nil {
		t.Fatalf("open the other name: %v", err)
	}
	defer db.Close()
	checkMigrated(t, db, outs)
}

// TestMigration008BackToWALBeforeExclusive: another opener puts the
// checkpoint back in WAL mode after the install took it out, before its
// EXCLUSIVE lock: not renamed over, the backup installs.
func TestMigration008BackToWALBeforeExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	seen := false
	defer sqlite.SetStepHook(func(step string) error {
		if step != "left WAL" || seen {
			return nil
		}
		seen = true
		other, err := sql.Open("sqlite3", path)
		if err != nil {
			return err
		}
		defer other.Close()
		var mode string
		if err := other.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("the other opener's journal mode %q, %v; want wal", mode, err)
		}
		return nil
	})()
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !seen {
		t.Fatal("the left WAL step was not reached")
	}
	checkMigrated(t, db, outs)
}

// TestMigration008OldFileReleased: once WaitReleased returns, the old,
// unlinked checkpoint's last descriptor (closed in the background) is
// closed: what BenchmarkMigrate1M waits for before it measures the
// steady work, which that close's kernel work would overlap.
func TestMigration008OldFileReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	legacyCheckpoint(t, path, slices.Values(legacyOutcomes()))
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqlite.WaitReleased()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	for _, fd := range fds {
		// The old file, renamed over: its name is the checkpoint's, deleted.
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); target == path+" (deleted)" {
			t.Errorf("descriptor %s still holds the old checkpoint after WaitReleased", fd.Name())
		}
	}
}
