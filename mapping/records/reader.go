package records

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// MaxField is the largest cell a row may hold.
const MaxField = 1 << 20

// sniffSize is how much of a file is looked at to guess its encoding and
// delimiter.
const sniffSize = 64 << 10

// sharedBufSize is the size of the buffer that the plain lines and
// encoding/csv share: csv.NewReader reads from a *bufio.Reader itself
// only when it holds at least 4096 bytes (bufio.NewReader's size), and
// otherwise buffers it again and reads ahead of the plain lines.
const sharedBufSize = sniffSize

// sharedBufSize must hold 4096 bytes: this fails to compile otherwise.
var _ [sharedBufSize - 4096]struct{}

// readBufSize is sharedBufSize; tests lower it to meet its edges.
var readBufSize = sharedBufSize

// Record is one CSV record with the physical line it starts on.
type Record struct {
	Line   int
	Fields []string // Next's: the caller's to keep
	Err    error    // a record that could not be read: the rest of the file still counts
	// Clean says the text up to the end of the record holds no NUL byte
	// and nothing but UTF-8; when false, its cells must be checked.
	Clean bool
}

// Reader reads a CSV export record by record, whatever its encoding and
// delimiter, counting physical lines (a quoted field spanning lines counts
// them all; CR-only files count CRs). It reads through gocsv's decoder
// interface over encoding/csv: gocsv's struct binding does not fit a
// mapping chosen at run time, so the mapping is done on the records.
type Reader struct {
	Encoding  string // as detected or configured
	Delimiter rune
	Sheet     string // a workbook's sheet; "" for CSV

	rows     func() (Record, error) // a workbook's rows instead of CSV (xlsx.go)
	workbook *workbook              // a workbook's, told the mapped columns (mapColumns)

	open   func() (io.ReadCloser, error) // the raw file, from its start
	enc    encoding.Encoding             // nil: UTF-8 as is
	crOnly bool                          // lines end with CR alone (old Mac files)
	closer io.Closer
	csv    *csv.Reader
	dec    gocsv.SimpleDecoder
	check  *textCheck
	plain  *plainLines         // the plain lines, read before encoding/csv sees them
	offset int                 // lines skipped before the current csv.Reader started
	keep   func(line int) bool // nil, or the lines whose plain lines are cut (SkipLines)
	limit  *fieldLimit
	guard  guardMode // how the raw bytes are checked
}

// OpenReader opens path for reading, never through a symbolic link.
// encodingName and delimiter may be "auto".
func OpenReader(path, encodingName, delimiter string) (*Reader, error) {
	open := func() (io.ReadCloser, error) { return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0) }
	return newReader(open, encodingName, delimiter)
}

func newReader(open func() (io.ReadCloser, error), encodingName, delimiter string) (*Reader, error) {
	r := &Reader{open: open}
	raw, err := open()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(raw, sniffSize)
	head, _ := br.Peek(sniffSize)
	raw.Close()
	enc, name, err := chooseEncoding(head, encodingName)
	if err != nil {
		return nil, err
	}
	r.Encoding = name
	enc, r.guard = guardFor(enc, encodingName)
	text, err := decodeAll(head, enc)
	if err != nil {
		return nil, fmt.Errorf("undecodable as %s: %w", name, err)
	}
	switch delimiter {
	case "", "auto":
		r.Delimiter = sniffDelimiter(text)
	case `\t`, "tab":
		r.Delimiter = '\t'
	default:
		r.Delimiter = rune(delimiter[0])
	}
	// A file whose lines end with CR alone gets them turned into LF. A file
	// with LF keeps its CRs: encoding/csv reads CRLF, and a CR inside a
	// quoted field is data, not a line end.
	r.crOnly = strings.Contains(text, "\r") && !strings.Contains(text, "\n")
	if err := r.restart(enc, 0); err != nil {
		return nil, err
	}
	return r, nil
}

// restart opens the stream again and skips skip physical lines.
func (r *Reader) restart(enc encoding.Encoding, skip int) error {
	if r.closer != nil {
		r.closer.Close()
	}
	raw, err := r.open()
	if err != nil {
		return err
	}
	r.closer = raw
	var in io.Reader = raw
	var watch *utf8Watch
	if r.guard.watch {
		watch = newUTF8Watch(in, r.Encoding, r.crOnly)
		in = watch
	}
	if r.guard.on() {
		g := newByteGuard(in, r.Encoding, r.guard.utf8, r.guard.cp1252, r.guard.bom, r.crOnly)
		g.refuseC1, g.watch = r.guard.c1, watch
		in = g
	}
	if enc != nil {
		in = transform.NewReader(in, enc.NewDecoder())
	}
	if r.crOnly {
		in = &crReader{r: in}
	}
	r.check = &textCheck{r: in}
	br := bufio.NewReaderSize(r.check, sniffSize)
	for skipped := 0; skipped < skip; {
		_, err := br.ReadSlice('\n')
		if err == nil {
			skipped++
		} else if !errors.Is(err, bufio.ErrBufferFull) { // ErrBufferFull: a long line goes on
			break
		}
	}
	r.limit = newFieldLimit(br, byte(r.Delimiter), skip+1)
	// One buffer for the plain lines and encoding/csv, which reads the
	// others from it (plainline.go).
	buf := bufio.NewReaderSize(&sticky{r: r.limit}, readBufSize)
	r.csv = csv.NewReader(buf)
	r.csv.Comma = r.Delimiter
	r.csv.FieldsPerRecord = -1
	// ReuseRecord: the cells are copied, by Next into a slice of the
	// record's own, by the mapping's batches into theirs (NextInto).
	r.csv.ReuseRecord = true
	r.plain = newPlainLines(buf, r.csv) // after the settings it follows
	r.dec = gocsv.NewSimpleDecoderFromCSVReader(r.csv)
	r.offset = skip
	r.enc = enc
	return nil
}

// Next returns the next record, or io.EOF.
func (r *Reader) Next() (Record, error) {
	rec, _, err := r.NextInto(nil, 0)
	return rec, err
}

// NextInto is Next, the record's cells appended to slab (a new one, for
// about perSlab records, when it is full) and sliced from it; it returns
// the slab. A batch of records then keeps its cells in one array, used
// again for later batches.
func (r *Reader) NextInto(slab []string, perSlab int) (Record, []string, error) {
	if r.rows != nil {
		rec, err := r.rows()
		return rec, slab, err
	}
	if slab, fields, line, ok := r.plain.next(slab, perSlab, r.keep, r.offset); ok {
		return Record{Line: line + r.offset, Fields: fields, Clean: !r.check.dirty}, slab, nil
	}
	fields, err := r.dec.GetCSVRow()
	if err == io.EOF {
		return Record{}, slab, io.EOF
	}
	if pe := parseError(err); pe != nil {
		start := r.plain.csvThrough(pe.StartLine, pe.Line) + r.offset
		end := start + pe.Line - pe.StartLine
		rec := Record{Line: start, Err: errors.New(describeParseError(pe))}
		if end > start {
			// An unclosed quote swallowed the lines after it: read on from
			// the line after the record's start.
			if err := r.restart(r.enc, start); err != nil {
				return Record{}, slab, err
			}
		}
		return rec, slab, nil
	}
	if err != nil {
		return Record{}, slab, err
	}
	line := r.plain.csvRecord(r.csv, fields) + r.offset
	slab = growSlab(slab, len(fields), perSlab)
	at := len(slab)
	slab = append(slab, fields...)
	return Record{Line: line, Fields: slab[at:len(slab):len(slab)], Clean: !r.check.dirty}, slab, nil
}

// SkipLines makes the reader give each plain line (plainline.go) whose
// line keep refuses as a record of its line alone, with nil Fields: its
// text neither copied nor cut (an import's wave reads the export again
// for its own rows, mapping's ReadLines). keep is asked with the line
// Next would report, on the goroutine that calls Next. Records that
// encoding/csv reads (a line with a quote, a line longer than the
// buffer, the last line without its line end) come whole whatever keep
// says: a caller still decides on Line, not on Fields being nil.
func (r *Reader) SkipLines(keep func(line int) bool) { r.keep = keep }

// growSlab returns slab, or a new one when it has no room for need more
// cells: of need (Next: the record's own), else of perSlab records.
func growSlab(slab []string, need, perSlab int) []string {
	if cap(slab)-len(slab) >= need {
		return slab
	}
	size := need
	if slab != nil {
		size = max(size*perSlab, 2*cap(slab)) // a batch's
	}
	return make([]string, 0, size)
}

// MapColumns tells a workbook's reader which cells the mapping reads:
// the others are passed on as they are, not converted. A CSV's reader
// passes every cell as it is.
func (r *Reader) MapColumns(cols []int) {
	if r.workbook != nil {
		r.workbook.mapColumns(cols)
	}
}

// Close releases the file.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// parseError returns err as a *csv.ParseError, or nil.
func parseError(err error) *csv.ParseError {
	if err == nil {
		return nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

func describeParseError(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		return "unterminated or misplaced quote"
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return `a bare " in an unquoted field`
	}
	return pe.Err.Error()
}

// chooseEncoding picks the decoder: by BOM, else UTF-8 when the head is
// valid UTF-8, else Windows-1252; an explicit name overrides. A nil
// encoding means UTF-8 as is.
func chooseEncoding(head []byte, name string) (encoding.Encoding, string, error) {
	switch strings.ToLower(name) {
	case "utf-8", "utf8":
		return unicode.UTF8BOM, "utf-8", nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252, "windows-1252", nil
	case "iso-8859-1", "latin1", "latin-1":
		return charmap.ISO8859_1, "iso-8859-1", nil
	case "utf-16":
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16", nil
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return unicode.UTF8BOM, "utf-8", nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le", nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be", nil
	}
	valid := head
	if len(head) == sniffSize {
		// The cut may split a rune: judge up to the last line end.
		if i := bytes.LastIndexByte(head, '\n'); i > 0 {
			valid = head[:i]
		}
	}
	if utf8.Valid(valid) {
		return nil, "utf-8", nil
	}
	return charmap.Windows1252, "windows-1252", nil
}

func decodeAll(b []byte, enc encoding.Encoding) (string, error) {
	if enc == nil {
		return string(b), nil
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), b)
	if err != nil && len(out) == 0 {
		return "", err
	}
	return string(out), nil
}

// sniffDelimiter counts , ; tab | outside quotes on the header line; the
// most frequent wins, a comma on a tie or when none appears. Data lines
// are not looked at, so decimal commas cannot fool it.
func sniffDelimiter(text string) rune {
	text = strings.TrimPrefix(text, "\ufeff")
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		text = text[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, c := range text {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t' || c == '|'):
			counts[c]++
		}
	}
	best, n := ',', 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return best
}

// crReader turns CR (and CRLF) line ends into LF, for files whose lines
// end with CR alone, so that they have lines too.
type crReader struct {
	r      io.Reader
	lastCR bool
}

func (c *crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	w := 0
	for _, b := range p[:n] {
		switch {
		case b == '\n' && c.lastCR:
			c.lastCR = false
			continue
		case b == '\r':
			c.lastCR = true
			b = '\n'
		default:
			c.lastCR = false
		}
		p[w] = b
		w++
	}
	if w == 0 && n > 0 && err == nil {
		return c.Read(p)
	}
	return w, err
}
