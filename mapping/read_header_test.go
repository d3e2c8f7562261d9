package mapping_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/mapping"
)

// TestRead_HeaderLimit: the header over the limit is an unusable file
// naming the limit; a wide header under it, and long records after it,
// are read as before.
func TestRead_HeaderLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := mapping.DefaultConfig()
	cfg.Columns = mapping.ColumnMap{"reference": "reference", "name": "name"}
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	columns := func(size int) string { // distinct names, size bytes or a little more
		var b strings.Builder
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, ",c%d", i)
		}
		return b.String()
	}
	path := filepath.Join(dir, "wide.csv")
	if err := os.WriteFile(path, []byte("reference,name"+columns(2*mapping.MaxField)+"\nA,Alpha\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = m.Read(context.Background(), path, func(mapping.Row) error { return nil })
	var fe *mapping.FileError
	if !errors.As(err, &fe) || fe.Line != 1 || !strings.Contains(err.Error(), "header line of more than") {
		t.Errorf("err = %v, want a file error at line 1 naming the header's limit", err)
	}
	// Under the limit: a 1 MB header, then a record of 3 MB in 3 cells.
	head := "reference,name" + columns(mapping.MaxField-20)
	ok := head + "\nA,Alpha" + strings.Repeat(",", strings.Count(head, ",")-4) + strings.Repeat(","+strings.Repeat("v", mapping.MaxField-10), 3) + "\n"
	path = filepath.Join(dir, "ok.csv")
	if err := os.WriteFile(path, []byte(ok), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := 0
	_, err = m.Read(context.Background(), path, func(mapping.Row) error { rows++; return nil })
	if err != nil || rows != 1 {
		t.Errorf("err %v, %d rows: want the row read", err, rows)
	}
}
