package records

import (
	"errors"
	"fmt"
	"io"
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
