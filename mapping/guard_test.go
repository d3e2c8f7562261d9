package mapping

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// endlessField is a CSV export whose second row holds a field of size
// bytes, generated as it is read; it counts what was read.
type endlessField struct {
	head string
	size int64
	read int64
}

func (e *endlessField) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && e.read < int64(len(e.head))+e.size {
		if e.read < int64(len(e.head)) {
			p[n] = e.head[e.read]
		} else {
			p[n] = 'x'
		}
		n++
		e.read++
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (e *endlessField) Close() error { return nil }

// TestReader_FieldLimit: a 100 MB field stops the read at the limit: the
// reader reads little more than the limit and allocates little more.
func TestReader_FieldLimit(t *testing.T) {
	for _, quoted := range []bool{false, true} {
		head := "reference,name\nA,Alpha\nB,"
		if quoted {
			head += `"`
		}
		var read int64 // by every opening
		var src *endlessField
		open := func() (io.ReadCloser, error) {
			if src != nil {
				read += src.read
			}
			src = &endlessField{head: head, size: 100 << 20}
			return src, nil
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := newReader(open, "auto", "auto")
		if err != nil {
			t.Fatal(err)
		}
		var lines []int
		for {
			rec, err := r.Next()
			if err != nil {
				var fl *FieldTooLongError
				if !errors.As(err, &fl) || fl.Line != 3 {
					t.Fatalf("quoted %v: err = %v, want a field too long on line 3", quoted, err)
				}
				break
			}
			lines = append(lines, rec.Line)
		}
		runtime.ReadMemStats(&after)
		if len(lines) != 2 || lines[1] != 2 {
			t.Errorf("records on lines %v before the error", lines)
		}
		// The sniff opens the file again: the source counts both reads.
		if read += src.read; read > 2*sniffSize+hardFieldLimit+256<<10 {
			t.Errorf("read %d bytes of the field, want at most the limit and buffers", read)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*hardFieldLimit {
			t.Errorf("allocated %d MB for a 100 MB field", alloc>>20)
		}
	}
}

func TestFieldLimit_Follows(t *testing.T) {
	// A quoted field with delimiters, newlines and escaped quotes counts as
	// one; an unquoted quote does not open one.
	in := "a,\"x,\n\"\"y\",b\nc,d\"e,f\n"
	f := &fieldLimit{r: strings.NewReader(in), delim: ',', line: 1}
	got, err := io.ReadAll(f)
	if err != nil || string(got) != in || f.line != 4 || f.quoted {
		t.Errorf("got %q, %v, line %d, quoted %v", got, err, f.line, f.quoted)
	}
}
