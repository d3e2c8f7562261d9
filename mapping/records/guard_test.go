package records

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// endlessField is a CSV export whose second row holds a field of size
// bytes, generated as it is read; it counts what was read. With a
// pattern, the size bytes repeat it instead of "x".
type endlessField struct {
	head    string
	size    int64
	read    int64
	pattern string
}

func (e *endlessField) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && e.read < int64(len(e.head))+e.size {
		switch body := e.read - int64(len(e.head)); {
		case body < 0:
			p[n] = e.head[e.read]
		case e.pattern != "":
			p[n] = e.pattern[body%int64(len(e.pattern))]
		default:
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
	f := newFieldLimit(strings.NewReader(in), ',', 1)
	got, err := io.ReadAll(f)
	if err != nil || string(got) != in || f.line != 4 || f.quoted {
		t.Errorf("got %q, %v, line %d, quoted %v", got, err, f.line, f.quoted)
	}
}

// FuzzFieldLimit checks that following plain runs at once (plainRun) ends
// in the same place as following every byte: the same text passed on, the
// same line, the same field and record lengths, and the same stop at a
// field or record over the limit (small limits here; the text passed on
// before such a stop may differ, the read ends there), whatever the chunks
// the text arrives in.
func FuzzFieldLimit(f *testing.F) {
	f.Add([]byte("a,\"x,\n\"\"y\",b\nc,d\"e,f\n"), uint8(3))
	f.Add([]byte("abcdefghij,k\nlm"), uint8(64))
	f.Add([]byte("ab,cdefgh\"ij,\"\"k\n"), uint8(1))
	f.Add([]byte("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s\nt"), uint8(5))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		follow := func(bytewise bool) (*fieldLimit, string, error) {
			fl := newFieldLimit(&chunked{data: in, size: int(chunk%16) + 1}, ',', 1)
			fl.maxField, fl.maxRecord, fl.maxHeader, fl.bytewise = 6, 30, 20, bytewise
			out, err := io.ReadAll(fl)
			return fl, string(out), err
		}
		fast, fastOut, fastErr := follow(false)
		slow, slowOut, slowErr := follow(true)
		if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) || fast.line != slow.line || fast.quoted != slow.quoted {
			t.Fatalf("plain runs: err %v line %d quoted %v; bytewise: err %v line %d quoted %v",
				fastErr, fast.line, fast.quoted, slowErr, slow.line, slow.quoted)
		}
		if fastErr == nil && (fastOut != slowOut || fast.n != slow.n || fast.rec != slow.rec) {
			t.Fatalf("plain runs: %q n %d rec %d; bytewise: %q n %d rec %d", fastOut, fast.n, fast.rec, slowOut, slow.n, slow.rec)
		}
	})
}
