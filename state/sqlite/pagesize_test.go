package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// TestOpen_NewCheckpointPageSize: a new checkpoint has 16 KiB pages, so
// that a record of ~1 KB (its pushed values and the CRM's) fits its page
// instead of taking an overflow page of its own (4 KiB pages made a
// 1,000,000-customer checkpoint a 4.4 GB file); and it is in WAL mode.
func TestOpen_NewCheckpointPageSize(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	p := filepath.Join(t.TempDir(), "erpsync.db")
	db := sqlite.NewDB(p)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := db.NewWriter(100, 0)
	values := map[string]string{"name": strings.Repeat("n", 200), "billingAddress": strings.Repeat("a", 250)}
	for i := range 200 {
		ref := "R-" + strings.Repeat("0", 6) + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: ref, Line: i + 2, Hash: "h",
			Values: values, CRMValues: values, CRMID: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite3", p)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var size int
	var mode string
	if err := raw.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil || size != 16384 {
		t.Errorf("page_size = %d (%v), want 16384", size, err)
	}
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
}
