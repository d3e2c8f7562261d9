package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"erpsync/state/prepared"
)

// state/prepared's test lives here, beside its one user: in its own
// package it made a test binary of its own link SQLite (gcc, ~2 CPU s
// of every `go test ./...`) for one test.

// Guarantee: on a pool of one connection (the checkpoint's writer), the
// Set's statements are prepared once outside the transactions and serve
// each of them; a query not in the Set runs too, prepared in its
// transaction; nothing waits for the connection the transaction holds.
func TestSet_ServesEachTransaction(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "p.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	const ins = `INSERT INTO t (k, v) VALUES (?, ?)`
	set := prepared.New(db, ins, `SELECT nothing FROM nowhere`) // the second cannot be prepared
	for round := range 3 {
		set.Ready(ctx)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ptx := set.Begin(tx)
		for i := range 2 {
			if _, err := ptx.ExecContext(ctx, ins, round*10+i, "x"); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if _, err := ptx.ExecContext(ctx, `UPDATE t SET v = ? WHERE k = ?`, "y", round*10); err != nil {
			t.Fatalf("a query not in the set, round %d: %v", round, err)
		}
		if _, err := ptx.ExecContext(ctx, `SELECT nothing FROM nowhere`); err == nil {
			t.Fatalf("a query that cannot be prepared ran")
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var n, y int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE v = 'y') FROM t`).Scan(&n, &y); err != nil || n != 6 || y != 3 {
		t.Errorf("rows %d, updated %d (%v); want 6 and 3", n, y, err)
	}
	if err := set.Close(); err != nil {
		t.Fatal(err)
	}
	if err := set.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
