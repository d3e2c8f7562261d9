package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestKnownByReferences_ByReference: the statement finds records by
// their reference (the primary key), never by walking an index of every
// record. Without statistics SQLite plans the same on 10 records as on a
// million: it once chose records_known for crm_gone = 0.
func TestKnownByReferences_ByReference(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.ro.QueryContext(ctx, "EXPLAIN QUERY PLAN "+knownByReferences, `["A","B"]`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "SEARCH records USING PRIMARY KEY (reference=?)") {
		t.Errorf("records are not found by reference:\n%s", text)
	}
}
