package compact

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyStreams: the copy's statements read the checkpoint's records
// straight into the new file: none writes its rows into a temporary
// table first (SQLite does when the SELECT reads the table inserted
// into), a quarter of SQLite's work in the copy.
func TestCopyStreams(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite3", uri(filepath.Join(dir, "next.db"), ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := registerOn(conn, &Copier{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`ATTACH DATABASE '` + filepath.Join(dir, "old.db") + `' AS old`,
		`CREATE TABLE old.records (reference TEXT PRIMARY KEY, hash TEXT NOT NULL, vals TEXT NOT NULL, crm_id INTEGER NOT NULL DEFAULT 0,
			crm_last_updated INTEGER NOT NULL DEFAULT 0, crm_vals TEXT NOT NULL DEFAULT '{}', pushed_at INTEGER NOT NULL,
			crm_gone INTEGER NOT NULL DEFAULT 0, row_sum INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID`,
		`CREATE TABLE main.records_v8 (reference TEXT PRIMARY KEY, hash BLOB NOT NULL, vals BLOB NOT NULL, crm_id INTEGER NOT NULL DEFAULT 0,
			crm_last_updated INTEGER NOT NULL DEFAULT 0, crm_vals BLOB NOT NULL DEFAULT x'', pushed_at INTEGER NOT NULL,
			crm_gone INTEGER NOT NULL DEFAULT 0, row_sum INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID`,
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for name, q := range map[string]struct {
		query string
		args  []any
	}{"to the last record": {copyToLast, []any{"", 10}}, "up to the split": {copyLower, []any{"", "C-5", 10}}} {
		rows, err := conn.QueryContext(ctx, `EXPLAIN `+q.query, q.args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for rows.Next() {
			var addr, p1, p2, p3 int
			var op, p4, p5, comment sql.NullString
			if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			if strings.EqualFold(op.String, "OpenEphemeral") {
				t.Errorf("the copy %s writes its rows into a temporary table first (%s at %d)", name, op.String, addr)
			}
		}
		rows.Close()
	}
}
