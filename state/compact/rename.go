package compact

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// The install by rename: when no other connection holds the checkpoint,
// the complete new file, synced, is renamed over it, instead of copied
// page for page into its WAL and from there into it (twice its size
// written, and synced). Each step leaves either the old checkpoint or
// the new one, whole, at its name:
//
//  1. the checkpoint leaves WAL mode (journal_mode DELETE: SQLite does
//     it only when no other connection, of any process, has it open; it
//     empties and removes the WAL and its shared memory), and is locked
//     (EXCLUSIVE: nobody reads it from then on); a connection holding
//     it makes the install the backup's, as does one that put it back
//     in WAL mode before the lock, and a checkpoint with another name
//     (hard link) or owner (ownOnly); it is compared again with the new
//     file (unchanged): a write since the first comparison is ErrStale,
//     not installed over;
//  2. the new file is given the checkpoint's permissions and synced,
//     after making sure its name still leads to the file compared
//     (syncCopied);
//  3. it is renamed over the checkpoint, and the folder synced;
//  4. the old file, unlinked, is made unreadable (its header is no
//     longer SQLite's): a process that opened it before the rename and
//     waited for the lock fails instead of reading or writing a file no
//     name leads to; the connection to it is closed, the writer's pool
//     opens the new file (and puts it in WAL mode) when next used.
//
// StepHook is called after steps 1, 2 and 3: "exclusive", "synced",
// "renamed"; and within step 1, out of WAL mode, before the lock:
// "left WAL".

// releaseOld closes, in the background, the old checkpoint's descriptor
// that renameInstall kept once it is the file's last (the writer's
// connection to it closed): that close gives back its pages and blocks,
// some 0.9 s for a file of 1.3 GB, which the migration does not wait for.
func (m *Migration) releaseOld() {
	if f := m.released; f != nil {
		m.released = nil
		releasing.Add(1)
		go func() {
			defer releasing.Done()
			f.Close() //nolint:errcheck // an unlinked file, read no more
		}()
	}
}

// releasing counts the closes releaseOld left running.
var releasing sync.WaitGroup

// WaitReleased waits for the closes of the old checkpoints that
// releaseOld left running: for a benchmark, whose measures after the
// migration that close's kernel work would otherwise overlap.
func WaitReleased() { releasing.Wait() }

// notSQLite is the header written over the old, unlinked checkpoint.
var notSQLite = []byte("erpsync: replaced by its migrated copy\x00")

// renameInstall installs the new file (next, whose inode is copied: the
// one compared) over the checkpoint by renaming it; dst is the
// checkpoint's writing connection, discarded once installed; lock is the
// new file's read transaction, compared with the locked checkpoint; the
// new file's descriptor is added to opened, for the caller to close once
// its locks on that file are released. installed
// is false, with no error, when another connection holds the checkpoint,
// its path is a symbolic link, or the file has another name or owner
// (ownOnly): nothing changed, the backup installs.
func (m *Migration) renameInstall(ctx context.Context, lock *sql.Tx, dst *sql.Conn, next string, copied os.FileInfo, opened *[]*os.File) (installed bool, err error) {
	st, err := os.Lstat(m.Path)
	if err != nil || !st.Mode().IsRegular() {
		return false, nil // a link: renamed over, it would be replaced, not where it leads
	}
	if !ownOnly(st) {
		return false, nil
	}
	var mode string
	if err := dst.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode); err != nil || mode != "delete" {
		return false, nil // SQLITE_BUSY: another connection has it open
	}
	defer func() {
		if err != nil || installed {
			// Closed, not put back in the pool: out of WAL mode, locked,
			// or on the old file.
			_ = dst.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if err := m.step("left WAL"); err != nil {
		return false, err
	}
	if err := m.exclusive(ctx, dst); errors.Is(err, errBackToWAL) {
		return false, backToWAL(ctx, dst) // the backup installs
	} else if err != nil {
		return false, fmt.Errorf("install %s: %w", next, err)
	}
	// Nobody writes to the checkpoint from here on: compared again, a
	// write since the first comparison is not renamed over (ErrStale).
	if err := m.unchanged(ctx, lock, dst); err != nil {
		return false, err
	}
	if err := m.step("exclusive"); err != nil {
		return false, err
	}
	f, err := syncCopied(next, copied, st.Mode().Perm())
	if f != nil {
		*opened = append(*opened, f)
	}
	if err != nil {
		return false, fmt.Errorf("install %s: %w", next, err)
	}
	if err := m.step("synced"); err != nil {
		return false, err
	}
	old, err := os.OpenFile(m.Path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("install %s: %w", next, err)
	}
	defer func() {
		if installed && err == nil {
			m.released = old // the last descriptor of the unlinked file: releaseOld
			return
		}
		_ = old.Close()
	}()
	if err := os.Rename(next, m.Path); err != nil {
		return false, fmt.Errorf("install %s: %w", next, err)
	}
	if err := syncDir(m.Path); err != nil {
		return true, fmt.Errorf("install %s: %w", next, err)
	}
	if err := m.step("renamed"); err != nil {
		return true, err
	}
	if _, err := old.WriteAt(notSQLite, 0); err != nil {
		return true, fmt.Errorf("install %s: mark the old file: %w", next, err)
	}
	return true, nil
}

// exclusive locks the checkpoint, out of WAL mode, for the rename: its
// EXCLUSIVE lock (waiting for a reader that came in meanwhile), and then
// still no WAL beside it. Its page cache is emptied first: kept from WAL
// mode, where a commit does not change the file's change counter, it
// could hold pages older than another process's last write (found so
// by TestMigration008WriteAfterCompared), which would then be read as
// current under the lock.
func (m *Migration) exclusive(ctx context.Context, dst *sql.Conn) error {
	if _, err := dst.ExecContext(ctx, `PRAGMA shrink_memory`); err != nil {
		return err
	}
	if _, err := dst.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		return err
	}
	var mode string
	if err := dst.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return err
	}
	if mode == "wal" {
		return errBackToWAL
	}
	if mode != "delete" {
		return fmt.Errorf("the checkpoint went to journal mode %s meanwhile", mode)
	}
	for _, p := range []string{m.Path + "-wal", m.Path + "-journal"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s beside the checkpoint (%v)", p, err)
		}
	}
	return nil
}

// errBackToWAL is a checkpoint put back in WAL mode by another opener
// before exclusive's lock: not renamed over.
var errBackToWAL = errors.New("the checkpoint went back to WAL mode meanwhile")

// backToWAL ends exclusive's transaction on dst, for the backup, and
// sets dst's journal mode back to WAL (the file's).
func backToWAL(ctx context.Context, dst *sql.Conn) error {
	if _, err := dst.ExecContext(ctx, `ROLLBACK`); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	var mode string
	if err := dst.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	return nil
}

// syncCopied syncs the new file at next, given the checkpoint's
// permissions (perm: SQLite created it 0644), after making sure that its
// name still leads to the file compared (copied). Its descriptor, once
// opened, is returned open: closed, it would drop the process's locks
// on the new file (its SQLite connections').
func syncCopied(next string, copied os.FileInfo, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(next, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return f, err
	}
	if !os.SameFile(st, copied) {
		return f, errors.New("the new file was replaced meanwhile: not installed")
	}
	if err := f.Chmod(perm); err != nil {
		return f, err
	}
	return f, f.Sync()
}

// ownOnly says whether the checkpoint's file (st) may be replaced by
// another one: its one name (a hard link's other name would keep the old
// file, then made unreadable) and owned by this process's user (the new
// file would be the runner's). Unknown (no Unix stat): no.
func ownOnly(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Nlink == 1 && int(sys.Uid) == os.Geteuid()
}

// syncDir syncs the folder of the file at path: its names on disk.
func syncDir(path string) error {
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
