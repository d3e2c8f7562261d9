package records

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// TestReader_PlainLinesSkipCSV: a file without a quote is read without
// encoding/csv (plainline.go): its csv.Reader never reads a byte. Its
// records and lines are those encoding/csv gives (FuzzReader_PlainLines).
func TestReader_PlainLinesSkipCSV(t *testing.T) {
	text := "reference;name\r\nA;Alpha\r\n\r\nB;Beta;\n\n;\nC;\"Gamma\"\n"
	r := plainReader(t, text, ";", false)
	defer r.Close()
	var got []string
	for range 3 { // the header, A and B: plain lines
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %q", rec.Line, rec.Fields))
	}
	if n := r.csv.InputOffset(); n != 0 {
		t.Errorf("encoding/csv read %d bytes of plain lines", n)
	}
	want := []string{`1 ["reference" "name"]`, `2 ["A" "Alpha"]`, `4 ["B" "Beta" ""]`}
	if !slices.Equal(got, want) {
		t.Errorf("records %v, want %v", got, want)
	}
	if got, want := readAll(r), readAll(plainReader(t, text, ";", true))[3:]; !slices.Equal(got, want) {
		t.Errorf("then %v, want %v (encoding/csv alone)", got, want)
	}
}

// plainReader reads text; off: every record through encoding/csv, as
// before plain lines.
func plainReader(t testing.TB, text, delimiter string, off bool) *Reader {
	return plainReaderOf(t, func() io.Reader { return strings.NewReader(text) }, delimiter, off)
}

func plainReaderOf(t testing.TB, src func() io.Reader, delimiter string, off bool) *Reader {
	t.Helper()
	r, err := plainReaderEnc(src, "auto", delimiter, off)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// plainReaderEnc is plainReaderOf with a declared encoding.
func plainReaderEnc(src func() io.Reader, encoding, delimiter string, off bool) (*Reader, error) {
	if off {
		noPlainLines = true
		defer func() { noPlainLines = false }()
	}
	return newReader(func() (io.ReadCloser, error) { return io.NopCloser(src()), nil }, encoding, delimiter)
}

// readAll is every record of r, as text: line, cells, error; then the
// error that ended the read. A record said Clean must be: no NUL, only
// UTF-8 (the buffers read ahead differ: Clean may end sooner, on a later
// record's text).
func readAll(r *Reader) []string {
	defer r.Close()
	var out []string
	var slab []string
	for range 100_000 {
		var rec Record
		var err error
		rec, slab, err = r.NextInto(slab, 4)
		if err != nil {
			var fl *FieldTooLongError
			if errors.As(err, &fl) {
				return append(out, fmt.Sprintf("field too long, line %d, header %v", fl.Line, fl.Header))
			}
			return append(out, "end: "+err.Error())
		}
		if rec.Clean && slices.ContainsFunc(rec.Fields, func(f string) bool { return checkCell(f) != nil }) {
			out = append(out, "said Clean:")
		}
		out = append(out, fmt.Sprintf("%d %q %v", rec.Line, rec.Fields, rec.Err))
	}
	return append(out, "bounded")
}

// plainCases are texts where plain lines meet encoding/csv's, each
// under 1 KB: the fuzz's seeds.
var plainCases = []string{
	"a,b\n1,2\n",
	"a,b\r\n1,2\r\n\r\n3,4",
	"a,b\n1,2\r",
	"a,b\n\n\n1,\"x\ny\"\n2,3\n\n",
	"a,b\n1,\"unterminated\n2,3\n4,5\n",
	"a,b\n1,x\"y\n2,3\n",
	"a,b\n1,\"x\"y\n2,\"multi\r\nline\"\n3,4\n",
	"a,b\n\r\n\r\r\n1,\r2\n,\n,,\n",
	"\n\na,b\n1,2",
	"a;b\n1;2\n\"3\";4\n5;6\n",
	"a,b\n1,\x00\xff\n2,\u00e9\n",
}

// plainLargeCases are texts larger than a buffer, too slow for the fuzz
// to minimize: a line longer than it, a quoted cell of many lines.
var plainLargeCases = []string{
	"a,b\n" + strings.Repeat("x", 70_000) + ",1\n2,3\n",
	"a,b\n1,\"" + strings.Repeat("y\n", 40_000) + "\"\n2,3\n",
}

// fuzzEncodings are the encodings a reader may be told (chooseEncoding).
var fuzzEncodings = []string{"auto", "utf-8", "windows-1252", "iso-8859-1", "utf-16"}

// FuzzReader_PlainLines: for any text, delimiter, read sizes, declared
// encoding and read error, the records, their lines, errors and Clean,
// and the error that ends the read, are those of encoding/csv alone.
// The buffer is the smallest encoding/csv shares (4096 bytes), and pad
// puts a line of about that length first, so that the text's lines
// straddle a full buffer.
func FuzzReader_PlainLines(f *testing.F) {
	for _, c := range plainCases {
		f.Add([]byte(c), byte(','), uint16(0), uint16(0), uint16(0), uint8(0))
		f.Add([]byte(c), byte(';'), uint16(3), uint16(0), uint16(0), uint8(0))
		f.Add([]byte(c), byte(','), uint16(0), uint16(123), uint16(0), uint8(1))
		f.Add([]byte(c), byte(','), uint16(7), uint16(130), uint16(9), uint8(0x82))
	}
	f.Fuzz(func(t *testing.T, data []byte, delim byte, chunk, pad, errAt uint16, enc uint8) {
		defer func(n int) { readBufSize = n }(readBufSize)
		readBufSize = 4096
		d := string([]byte{delim})
		if delim == 0 || delim == '\\' || delim >= 0x80 {
			d = ","
		}
		if pad > 0 { // a header, then a line ending from 128 bytes before the buffer's end to 128 after
			data = append([]byte("h,h\n"+strings.Repeat("x", 4096-4-128+int(pad%256))+"\n"), data...)
		}
		src := func() io.Reader { return fuzzSource(data, int(chunk), int(errAt), enc&0x80 != 0) }
		encoding := fuzzEncodings[int(enc&0x7f)%len(fuzzEncodings)]
		// want is the reader before a95a9fc: with plain lines off nothing peeks the buffer, csv parses it as its own (size aside), csvThrough gives FieldPos's lines as they are, and sticky only repeats an error readAll stopped at.
		got, want := fuzzRead(src, encoding, d, false), fuzzRead(src, encoding, d, true)
		if !slices.Equal(got, want) {
			t.Errorf("delimiter %q, pieces of %d, pad %d, error at %d, %s: plain lines read\n%s\nencoding/csv alone\n%s",
				d, chunk, pad, errAt, encoding, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// fuzzRead is readAll of a reader of src, or the error that opened none.
func fuzzRead(src func() io.Reader, encoding, delimiter string, off bool) []string {
	r, err := plainReaderEnc(src, encoding, delimiter, off)
	if err != nil {
		return []string{"open: " + err.Error()}
	}
	return readAll(r)
}

// fuzzSource reads data chunk bytes a read (0: all it can); errAt > 0
// fails the read at data's byte errAt-1, once (then EOF) or forever.
func fuzzSource(data []byte, chunk, errAt int, forever bool) io.Reader {
	if chunk == 0 {
		chunk = len(data) + 1
	}
	if errAt == 0 {
		return &pieces{data: data, size: chunk}
	}
	cut := min(errAt-1, len(data))
	return &failAt{pieces: pieces{data: data[:cut], size: chunk}, forever: forever}
}

// failAt reads its pieces, then fails: once then EOF, or forever.
type failAt struct {
	pieces
	forever, failed bool
}

func (f *failAt) Read(b []byte) (int, error) {
	if len(f.data) > 0 {
		return f.pieces.Read(b)
	}
	if f.forever || !f.failed {
		f.failed = true
		return 0, errors.New("a read failed")
	}
	return 0, io.EOF
}

// TestReader_PlainLinesAsCSV runs the fuzz's cases and the large ones,
// one byte a read too.
func TestReader_PlainLinesAsCSV(t *testing.T) {
	for _, c := range append(slices.Clone(plainCases), plainLargeCases...) {
		for _, d := range []string{",", ";", "\t"} {
			got := readAll(plainReader(t, c, d, false))
			if want := readAll(plainReader(t, c, d, true)); !slices.Equal(got, want) {
				t.Errorf("%q by %q: plain lines read\n%s\nencoding/csv alone\n%s", c, d, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		one := func() io.Reader { return iotest.OneByteReader(strings.NewReader(c)) }
		if got, want := readAll(plainReaderOf(t, one, ",", false)), readAll(plainReaderOf(t, one, ",", true)); !slices.Equal(got, want) {
			t.Errorf("%q a byte a read: plain lines read\n%s\nencoding/csv alone\n%s", c, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestReader_PlainLinesReadError: a read error that its source gives
// once (then EOF) ends the read where encoding/csv alone meets it.
func TestReader_PlainLinesReadError(t *testing.T) {
	for _, c := range plainCases {
		for cutAt := range len(c) + 1 {
			src := func() io.Reader { return &failOnce{data: []byte(c[:cutAt])} }
			got, want := readAll(plainReaderOf(t, src, ",", false)), readAll(plainReaderOf(t, src, ",", true))
			if !slices.Equal(got, want) {
				t.Fatalf("%q cut at %d: plain lines read\n%s\nencoding/csv alone\n%s", c, cutAt, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if cutAt > 200 {
				break
			}
		}
	}
}

// failOnce reads data, then fails once, then ends.
type failOnce struct {
	data   []byte
	failed bool
}

func (f *failOnce) Read(b []byte) (int, error) {
	if len(f.data) > 0 {
		n := copy(b, f.data)
		f.data = f.data[n:]
		return n, nil
	}
	if !f.failed {
		f.failed = true
		return 0, errors.New("a read failed")
	}
	return 0, io.EOF
}

// checkCell refuses a NUL and bytes that are not UTF-8.
func checkCell(f string) error {
	if strings.IndexByte(f, 0) >= 0 || !utf8.ValidString(f) {
		return errors.New("not clean")
	}
	return nil
}

// pieces reads data size bytes at a time at most.
type pieces struct {
	data []byte
	size int
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), p.size)], p.data)
	p.data = p.data[n:]
	return n, nil
}

// TestReader_PlainLinesSmallBuffer: with a buffer that encoding/csv
// buffers again (under 4096 bytes), it reads ahead of the plain lines:
// they step aside, and the records are still encoding/csv's.
func TestReader_PlainLinesSmallBuffer(t *testing.T) {
	defer func(n int) { readBufSize = n }(readBufSize)
	readBufSize = 16
	text := "a,b\n\n\n1,\"x\ny\"\n2,3\n\n"
	got, want := readAll(plainReader(t, text, ",", false)), readAll(plainReader(t, text, ",", true))
	if !slices.Equal(got, want) {
		t.Errorf("plain lines read\n%s\nencoding/csv alone\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPlainLines_CSVSettings: the plain lines read a record as
// encoding/csv does only with no comment character, leading spaces
// kept and any number of cells a record; set otherwise, encoding/csv
// reads them all.
func TestPlainLines_CSVSettings(t *testing.T) {
	text := "a,b\n#x,1\n y,2\n3\n"
	for name, set := range map[string]func(*csv.Reader){
		"Comment":          func(c *csv.Reader) { c.Comment = '#' },
		"TrimLeadingSpace": func(c *csv.Reader) { c.TrimLeadingSpace = true },
		"FieldsPerRecord":  func(c *csv.Reader) { c.FieldsPerRecord = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			got, want := readSet(text, set, true), readSet(text, set, false)
			if !slices.Equal(got, want) {
				t.Errorf("plain lines read\n%s\nencoding/csv alone\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// readSet reads text as NextInto does, with a csv.Reader set by set;
// plain: the plain lines first.
func readSet(text string, set func(*csv.Reader), plain bool) []string {
	buf := bufio.NewReaderSize(strings.NewReader(text), sharedBufSize)
	c := csv.NewReader(buf)
	c.FieldsPerRecord = -1
	set(c)
	p := newPlainLines(buf, c)
	if !plain {
		p.delim = 0
	}
	var out []string
	for range 100 {
		if _, fields, line, ok := p.next(nil, 0, nil, 0); ok {
			out = append(out, fmt.Sprintf("%d %q", line, fields))
			continue
		}
		fields, err := c.Read()
		if err != nil {
			return append(out, "end: "+err.Error())
		}
		out = append(out, fmt.Sprintf("%d %q", p.csvRecord(c, fields), fields))
	}
	return append(out, "bounded")
}

// TestCut: a plain line's cells are its text cut at each delimiter, as
// strings.Split cuts it, appended after what the slab holds.
func TestCut(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", ";", ";;", "a", "a;b", ";a", "a;", "a;;b", "ab;cd;ef;", "é;ü;;x;"} {
		got := cut([]string{"kept"}, s, ';')
		want := append([]string{"kept"}, strings.Split(s, ";")...)
		if !slices.Equal(got, want) {
			t.Errorf("cut(%q) = %q, want %q", s, got, want)
		}
	}
}
