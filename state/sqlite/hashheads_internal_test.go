package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestHashHeads_NoFunctionARow: the plan's loader streams a million
// records through sqlHashHeads; SQLite calls no function for each
// (typeof and substr took some 0.1 CPU s of it): the hash's head is cut
// in Go.
func TestHashHeads_NoFunctionARow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.ro.QueryContext(ctx, "EXPLAIN "+sqlHashHeads)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		switch op := *(vals[1].(*any)); op {
		case "Function", "PureFunc", "AggStep":
			t.Errorf("the stream calls a function for each record: %v", op)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
