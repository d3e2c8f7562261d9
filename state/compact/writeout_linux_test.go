package compact

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
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
}
