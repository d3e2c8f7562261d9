package mapping

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReader_HeaderLimit: a 50 MB header line (5 million columns) took
// 886 MB; the header is bounded like a field: the read stops at the
// field's limit, having read and allocated little more.
func TestReader_HeaderLimit(t *testing.T) {
	for _, head := range []string{"", "\n\r\n"} { // blank lines before the header do not lift its bound
		readHeaderOf(t, head, 1+strings.Count(head, "\n"))
	}
}

func readHeaderOf(t *testing.T, head string, line int) {
	var read int64
	var src *endlessField
	open := func() (io.ReadCloser, error) {
		if src != nil {
			read += src.read
		}
		src = &endlessField{head: head, size: 50 << 20, pattern: "abcdefghi,"} // a header of short column names
		return src, nil
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := newReader(open, "auto", "auto")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	runtime.ReadMemStats(&after)
	var fl *FieldTooLongError
	if !errors.As(err, &fl) || fl.Line != line || !strings.Contains(err.Error(), fmt.Sprintf("a header line of more than %d bytes", MaxField)) {
		t.Fatalf("head %q: err = %v, want the header over the limit of %d bytes on line %d", head, err, MaxField, line)
	}
	if read += src.read; read > 2*sniffSize+MaxField+256<<10 {
		t.Errorf("read %d bytes of the header, want at most the limit and buffers", read)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*hardFieldLimit {
		t.Errorf("allocated %d MB for a 50 MB header", alloc>>20)
	}
}

// TestRead_HeaderLimit: the header over the limit is an unusable file
// naming the limit; a wide header under it, and long records after it,
// are read as before.
func TestRead_HeaderLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Columns = ColumnMap{"reference": "reference", "name": "name"}
	m, err := New(cfg, nil)
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
	if err := os.WriteFile(path, []byte("reference,name"+columns(hardFieldLimit)+"\nA,Alpha\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = m.Read(context.Background(), path, func(Row) error { return nil })
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 1 || !strings.Contains(err.Error(), "header line of more than") {
		t.Errorf("err = %v, want a file error at line 1 naming the header's limit", err)
	}
	// Under the limit: a 1 MB header, then a record of 3 MB in 3 cells.
	head := "reference,name" + columns(MaxField-20)
	ok := head + "\nA,Alpha" + strings.Repeat(",", strings.Count(head, ",")-4) + strings.Repeat(","+strings.Repeat("v", MaxField-10), 3) + "\n"
	path = filepath.Join(dir, "ok.csv")
	if err := os.WriteFile(path, []byte(ok), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := 0
	_, err = m.Read(context.Background(), path, func(Row) error { rows++; return nil })
	if err != nil || rows != 1 {
		t.Errorf("err %v, %d rows: want the row read", err, rows)
	}
}
