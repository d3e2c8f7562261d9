package source_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"erpsync/sync/source"
)

// TestList_SkipsPutTemporaries: a pattern as wide as "*" never lists a
// Put's temporary file (one a failed put left) nor an .error.txt as an
// export, and a Put's temporary does not look like an .error.txt to a
// watch on the ERP's side.
func TestList_SkipsPutTemporaries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, n := range []string{"day1.csv", ".erpsync-ABCDEFGHIJKLMNOP.tmp", "day0.csv.error.txt", "day0.csv.held.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	st, err := source.Open(ctx, filepath.Join(dir, "*"), source.Settings{}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, filepath.Base(e.Name))
	}
	if !slices.Equal(names, []string{"day1.csv"}) {
		t.Errorf("listed %q, want only day1.csv", names)
	}
}
