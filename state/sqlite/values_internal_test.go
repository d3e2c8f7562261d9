package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/state"
)

// TestValuesOf_ByReference: ValuesOf finds each record by its reference
// (the primary key), never by walking every record.
func TestValuesOf_ByReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var plan []string
	rows, err := db.ro.QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlValuesOf, `["A","B"]`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if text := strings.Join(plan, "\n"); !strings.Contains(text, "SEARCH records USING PRIMARY KEY (reference=?)") {
		t.Errorf("records are not found by reference:\n%s", text)
	}
}

// TestValuesOf_FreshDictOneReaderLeft: a fresh process's field names are
// read on first use, on a connection of their own; ValuesOf must not hold
// its rows' connection meanwhile. With every reader but one held (the
// other cores' batches of a plan), it used to wait forever.
func TestValuesOf_FreshDictOneReaderLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "erpsync.db")
	db := NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	w := db.NewWriter(10, time.Second)
	if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: "A", Hash: "h", Values: map[string]string{"name": "Ann"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := NewDB(path) // a new process: its field names not read yet
	if err := fresh.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for range readers - 1 {
		c, err := fresh.ro.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var got map[string]string
	err := fresh.ValuesOf(tctx, []string{"A"}, func(_ string, v map[string]string) error { got = v; return nil })
	if err != nil || got["name"] != "Ann" {
		t.Fatalf("ValuesOf with %d of %d readers held: %v, %v", readers-1, readers, got, err)
	}
}
