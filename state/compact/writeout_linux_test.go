package compact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// TestStartWriteOut: the write-out of a new file is asked for through
// SQLite's own descriptor of the connection's main database, and only
// when that descriptor is of the file named by its device and inode: a
// file put in its place by name, or another id, starts nothing.
func TestStartWriteOut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "next.db")
	db, err := sql.Open("sqlite3", uri(path, "_synchronous=OFF"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x BLOB); INSERT INTO t VALUES (randomblob(100000))`); err != nil {
		t.Fatal(err)
	}
	id := idOf(path)
	if id == (fileID{}) {
		if !localFS(path) {
			t.Skipf("%s is not on a local filesystem this program knows: no write-out is asked for there", dir)
		}
		t.Fatalf("idOf(%s) is unknown", path)
	}
	if !startWriteOut(ctx, db, id) {
		t.Errorf("startWriteOut of the connection's own file = false, want true")
	}
	// The connection is whole: it still writes its file.
	if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES (x'00')`); err != nil {
		t.Fatalf("write after the write-out: %v", err)
	}
	if startWriteOut(ctx, db, fileID{dev: id.dev, ino: id.ino + 1}) {
		t.Errorf("startWriteOut with another inode = true, want false")
	}
	// Another file renamed to the connection's file's name: the id read
	// by name is not the connection's file's.
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if startWriteOut(ctx, db, idOf(path)) {
		t.Errorf("startWriteOut with the id of the file now at its name = true, want false")
	}
	if startWriteOut(ctx, db, fileID{}) {
		t.Errorf("startWriteOut with no id = true, want false")
	}
	// A connection whose main database is no unix file starts nothing.
	mem, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if startWriteOut(ctx, mem, id) {
		t.Errorf("startWriteOut on an in-memory database = true, want false")
	}
}

// writeOutChild, in the environment of a child test process, names the
// file TestStartWriteOut_KeepsLocks's child tries to write.
const writeOutChild = "ERPSYNC_TEST_WRITEOUT_CHILD"

// TestStartWriteOut_KeepsLocks: asking for the write-out opens and closes
// no descriptor of the file. Closing one would drop all of the process's
// POSIX locks on it, SQLite's too, which another process would see (a
// process never sees its own): a child process cannot write the file
// while this one's write transaction holds it, write-outs or not, and can
// once it has ended.
func TestStartWriteOut_KeepsLocks(t *testing.T) {
	if path := os.Getenv(writeOutChild); path != "" {
		writeOutChildWrites(path)
		return
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "next.db")
	db, err := sql.Open("sqlite3", uri(path, "_txlock=immediate&_synchronous=OFF"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x BLOB)`); err != nil {
		t.Fatal(err)
	}
	id := idOf(path)
	if id == (fileID{}) {
		t.Skipf("%s is not on a local filesystem this program knows: no write-out is asked for there", path)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for range 3 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (randomblob(50000))`); err != nil {
			t.Fatal(err)
		}
		if !startWriteOut(ctx, tx, id) {
			t.Fatal("startWriteOut = false, want true")
		}
	}
	if got := runWriteOutChild(t, path); got != "busy" {
		t.Errorf("while this process writes the file, another %s it, want busy: a lock was dropped", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := runWriteOutChild(t, path); got != "wrote" {
		t.Errorf("once this process's write ended, another %s it, want wrote", got)
	}
}

// runWriteOutChild runs this test in a child process that tries to write
// the file at path: what it says ("busy", "wrote", or its failure).
func runWriteOutChild(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestStartWriteOut_KeepsLocks$", "-test.count", "1")
	cmd.Env = append(os.Environ(), writeOutChild+"="+path)
	out, err := cmd.Output()
	if err != nil {
		return fmt.Sprintf("failed (%v: %s)", err, out)
	}
	if i := strings.Index(string(out), "child:"); i >= 0 {
		return strings.Fields(string(out[i+len("child:"):]))[0]
	}
	return fmt.Sprintf("said nothing (%s)", out)
}

// writeOutChildWrites is the child's side: one write, no waiting for a lock.
func writeOutChildWrites(path string) {
	db, err := sql.Open("sqlite3", uri(path, "_txlock=immediate&_busy_timeout=0"))
	if err == nil {
		defer db.Close()
		_, err = db.Exec(`INSERT INTO t VALUES (x'00')`)
	}
	var se sqlite3.Error
	switch {
	case err == nil:
		fmt.Println("child: wrote")
	case errors.As(err, &se) && se.Code == sqlite3.ErrBusy:
		fmt.Println("child: busy")
	default:
		fmt.Println("child: error", err)
	}
}
