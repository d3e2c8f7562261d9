package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

var ctx = context.Background()

// fixedNow is where the tests' clock starts.
var fixedNow = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// MustOpenDB opens a new checkpoint in a temporary folder, on the fixed
// clock, and closes it when the test ends. Its file is a copy of one
// that Open created once for the test binary (newFile): Open on a fresh
// file applies every migration, three times the work of opening a
// migrated one, and most tests open one. The tests of what Open does to
// a new file open one of their own (MustCreateDB).
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return mustOpenAt(tb, newFile(tb), func() time.Time { return fixedNow })
}

// MustCreateDB is MustOpenDB on a file that Open creates.
func MustCreateDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "erpsync.db"), func() time.Time { return fixedNow })
}

// mustOpenAt opens the checkpoint at path on the clock now, closed when
// the test ends.
func mustOpenAt(tb testing.TB, path string, now func() time.Time) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.Now = now
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// template is a file made once for the test binary, by build at path
// (in a temporary folder, removed once the file is read), and copied by
// tests.
type template struct {
	gosync.Once
	b   []byte
	err error
}

// copyTo writes a copy of the template (mode 0600) at path, making it
// first if it is not made yet.
func (tp *template) copyTo(tb testing.TB, path string, build func(path string) error) {
	tb.Helper()
	tp.Do(func() {
		dir, err := os.MkdirTemp("", "erpsync-state-template-")
		if err != nil {
			tp.err = err
			return
		}
		defer os.RemoveAll(dir)
		at := filepath.Join(dir, "erpsync.db")
		if tp.err = build(at); tp.err == nil {
			tp.b, tp.err = os.ReadFile(at)
		}
	})
	if tp.err != nil {
		tb.Fatalf("a checkpoint to copy: %v", tp.err)
	}
	if err := os.WriteFile(path, tp.b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// fresh is a new checkpoint as Open created it, closed (its WAL folded
// in and removed).
var fresh template

// newFile writes, in a temporary folder of the test, a copy of a new
// checkpoint as Open created it, and returns its path.
func newFile(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "erpsync.db")
	fresh.copyTo(tb, path, func(path string) error {
		db := sqlite.NewDB(path)
		db.Now = func() time.Time { return fixedNow }
		if err := db.Open(ctx); err != nil {
			return err
		}
		return db.Close()
	})
	return path
}

// MustReopenDB closes db and opens its file again with the same clock.
func MustReopenDB(tb testing.TB, db *sqlite.DB) *sqlite.DB {
	tb.Helper()
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	again := sqlite.NewDB(db.Path)
	again.Now = db.Now
	if err := again.Open(ctx); err != nil {
		tb.Fatalf("reopen: %v", err)
	}
	tb.Cleanup(func() { again.Close() })
	return again
}

// MustWrite records outcomes through a writer and closes it.
func MustWrite(tb testing.TB, db *sqlite.DB, outcomes ...state.Outcome) {
	tb.Helper()
	w := db.NewWriter(100, time.Hour)
	for _, o := range outcomes {
		if err := w.Put(ctx, o); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

// upsert is a successful upsert outcome.
func upsert(ref, hash string, vals map[string]string) state.Outcome {
	return state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: ref, Hash: hash, Values: vals,
		CRMID: 100, CRMLastUpdated: fixedNow.Add(-time.Minute), CRMValues: vals}
}

// rawDB opens a file with the bare driver, as another program would.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

// deadPID is the pid of a process of this host that has exited.
func deadPID(tb testing.TB) int {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		tb.Fatal(err)
	}
	return cmd.Process.Pid
}

func mustEqual[T comparable](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if got != want {
		tb.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}
