package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
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
