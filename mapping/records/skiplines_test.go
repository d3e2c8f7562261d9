package records

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// skipCases are texts where SkipLines meets what encoding/csv reads: a
// quoted cell of many lines, an unclosed quote that swallows the lines
// after it, CRLF, empty lines, a last line without its line end.
var skipCases = []string{
	"a,b\n1,2\n3,4\n5,6\n",
	"a,b\r\n1,2\r\n\r\n3,4\r\n5,6",
	"a,b\n1,\"x\ny\"\n2,3\n4,5\n",
	"a,b\n1,\"unterminated\n2,3\n4,5\n",
	"a,b\n1,x\"y\n2,3\n4,5\n",
	"a,b\n1,\"x\"y\n2,\"multi\r\nline\"\n3,4\n5,6\n",
	"a;b\n1;2\n\"3\";4\n5;6\n\n\n7;8",
}

// skipRead is every record of a reader of text, as readAll gives them,
// and the lines keep was asked about; with keep nil, SkipLines is not
// called.
func skipRead(text, delimiter string, keep func(int) bool) (recs []Record, asked []int, end string) {
	r, err := plainReaderEnc(func() io.Reader { return strings.NewReader(text) }, "auto", delimiter, false)
	if err != nil {
		return nil, nil, "open: " + err.Error()
	}
	defer r.Close()
	if keep != nil {
		r.SkipLines(func(line int) bool {
			asked = append(asked, line)
			return keep(line)
		})
	}
	var slab []string
	for range 100_000 {
		var rec Record
		rec, slab, err = r.NextInto(slab, 4)
		if err != nil {
			return recs, asked, "end: " + err.Error()
		}
		rec.Fields = slices.Clone(rec.Fields)
		recs = append(recs, rec)
	}
	return recs, asked, "bounded"
}

// checkSkipped holds the records read with keep to those read without:
// the same records on the same lines with the same errors and Clean; a
// line keep was asked about and refused without cells (nil), every
// other with the same cells.
func checkSkipped(t *testing.T, text, delimiter string, mask uint64) {
	t.Helper()
	keep := func(line int) bool { return mask>>(uint(line)%64)&1 == 1 }
	name := fmt.Sprintf("%q (%d bytes), mask %x", excerpt(text), len(text), mask)
	all, _, wantEnd := skipRead(text, delimiter, nil)
	got, asked, end := skipRead(text, delimiter, keep)
	if end != wantEnd || len(got) != len(all) {
		t.Fatalf("%s: %d records then %q, want %d then %q", name, len(got), end, len(all), wantEnd)
	}
	wrong := 0
	for i, rec := range got {
		if wrong == 3 {
			t.Fatalf("%s: and more", name)
		}
		want := all[i]
		if rec.Line != want.Line || fmt.Sprint(rec.Err) != fmt.Sprint(want.Err) || rec.Clean != want.Clean {
			t.Errorf("%s, record %d: line %d error %v clean %v, want line %d error %v clean %v",
				name, i, rec.Line, rec.Err, rec.Clean, want.Line, want.Err, want.Clean)
			wrong++
			continue
		}
		// keep is asked about plain lines only: one it refused comes
		// without cells; any other record with encoding/csv's.
		refused := !keep(rec.Line) && slices.Contains(asked, rec.Line)
		switch {
		case refused && rec.Fields == nil:
		case !refused && slices.Equal(rec.Fields, want.Fields) && (rec.Fields == nil) == (want.Fields == nil):
		default:
			t.Errorf("%s, line %d (kept %v): cells %q, want %q", name, rec.Line, keep(rec.Line), rec.Fields, want.Fields)
			wrong++
		}
	}
}

// excerpt is text's first 64 bytes: large cases stay out of messages.
func excerpt(text string) string {
	if len(text) > 64 {
		return text[:64] + "…"
	}
	return text
}

// TestReader_SkipLines: the seeds, each with every line kept, none
// kept, every other line and every third.
func TestReader_SkipLines(t *testing.T) {
	for _, c := range append(slices.Clone(skipCases), plainLargeCases...) {
		for _, mask := range []uint64{^uint64(0), 0, 0x5555555555555555, 0x9249249249249249} {
			checkSkipped(t, c, ",", mask)
			checkSkipped(t, c, ";", mask)
		}
	}
	// A line refused comes without cells, a line kept with them.
	got, _, _ := skipRead("a,b\n1,2\n3,4\n", ",", func(line int) bool { return line != 2 })
	if len(got) != 3 || got[1].Fields != nil || !slices.Equal(got[2].Fields, []string{"3", "4"}) {
		t.Errorf("records %+v, want line 2 without cells and line 3 with its two", got)
	}
}

// FuzzReader_SkipLines: for any text, delimiter and lines kept (mask's
// bit line%64), the records are those read without SkipLines, but for
// the cells of plain lines refused.
func FuzzReader_SkipLines(f *testing.F) {
	for _, c := range append(slices.Clone(skipCases), plainCases...) {
		f.Add([]byte(c), byte(','), uint64(0x5555555555555555))
		f.Add([]byte(c), byte(';'), uint64(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, delim byte, mask uint64) {
		d := string([]byte{delim})
		if delim == 0 || delim == '\\' || delim >= 0x80 {
			d = ","
		}
		checkSkipped(t, string(data), d, mask)
	})
}
