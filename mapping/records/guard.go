package records

import (
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// EncodingError is a byte that the export's encoding cannot hold: the
// file is not in the encoding it was declared (or detected) in. Nothing
// is replaced by U+FFFD: the read stops with this error.
type EncodingError struct {
	Line     int   // physical line of the byte
	Offset   int64 // of the byte in the file, from 0
	Byte     byte
	Encoding string
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("byte %d of the file, 0x%02X, is not %s; set source.encoding to the file's encoding (or auto)",
		e.Offset+1, e.Byte, e.Encoding)
}

// byteGuard passes the raw bytes of a file on, stopping with an
// *EncodingError at the first byte its encoding cannot hold: for UTF-8
// (checkUTF8) a byte that is not valid UTF-8, for Windows-1252 the five
// bytes it leaves undefined. It drops a UTF-8 byte order mark.
type byteGuard struct {
	r                             io.Reader
	encoding                      string
	checkUTF8, check1252, skipBOM bool
	refuseC1                      bool       // declared iso-8859-1: 0x80-0x9F decode to C1 controls
	watch                         *utf8Watch // of a declared single-byte file, or nil
	lineEnd                       byte       // '\n', or '\r' for CR-only files

	buf     []byte // bytes read and not yet passed on (a rune cut by a read)
	scratch []byte
	line    int
	offset  int64
	err     error
}

func newByteGuard(r io.Reader, encoding string, checkUTF8, check1252, skipBOM, crOnly bool) *byteGuard {
	g := &byteGuard{r: r, encoding: encoding, checkUTF8: checkUTF8, check1252: check1252, skipBOM: skipBOM, lineEnd: '\n', line: 1}
	if crOnly {
		g.lineEnd = '\r'
	}
	return g
}

func (g *byteGuard) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(g.buf) < utf8.UTFMax && g.err == nil {
		if len(g.scratch) < len(p) {
			g.scratch = make([]byte, max(len(p), 4096))
		}
		n, err := g.r.Read(g.scratch[:len(p)])
		g.buf = append(g.buf, g.scratch[:n]...)
		g.err = err
		if n > 0 && len(g.buf) >= utf8.UTFMax {
			break
		}
	}
	if g.skipBOM && (len(g.buf) >= 3 || g.err != nil) {
		g.skipBOM = false
		if bytes.HasPrefix(g.buf, []byte{0xEF, 0xBB, 0xBF}) {
			g.buf = g.buf[3:]
			g.offset += 3
		}
	}
	n := min(len(p), len(g.buf))
	good, bad := g.valid(g.buf[:n], g.err != nil && n == len(g.buf))
	copy(p, g.buf[:good])
	g.line += bytes.Count(p[:good], []byte{g.lineEnd})
	g.offset += int64(good)
	g.buf = g.buf[good:]
	switch {
	case bad && g.watch.utf8SoFar():
		g.err = g.watch.first // a UTF-8 file: its bytes 0x80-0x9F are continuation bytes
		g.buf = nil
	case bad && g.refuseC1:
		g.err = &WrongEncodingError{Line: g.line, Offset: g.offset, Bytes: g.buf[:1:1], Declared: g.encoding, Likely: "windows-1252"}
		g.buf = nil
	case bad:
		g.err = &EncodingError{Line: g.line, Offset: g.offset, Byte: g.buf[0], Encoding: g.encoding}
		g.buf = nil
	case good > 0:
		return good, nil
	case len(g.buf) > 0 && g.err == nil:
		return 0, nil // a cut rune waits for more bytes
	}
	if good > 0 {
		return good, nil
	}
	return 0, g.err
}

// valid returns how many bytes of b may be passed on, and whether the
// byte after them is one the encoding cannot hold. A rune cut at the end
// of b waits, unless b is the end of the file.
func (g *byteGuard) valid(b []byte, atEOF bool) (int, bool) {
	switch {
	case g.refuseC1:
		for i, c := range b {
			if isC1(c) {
				return i, true
			}
		}
	case g.check1252:
		for i, c := range b {
			if c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D {
				return i, true
			}
		}
	case g.checkUTF8:
		for i := 0; i < len(b); {
			if b[i] < utf8.RuneSelf {
				i++
				continue
			}
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				if !atEOF && !utf8.FullRune(b[i:]) {
					return i, false
				}
				return i, true
			}
			i += size
		}
	}
	return len(b), false
}

// hardFieldLimit is the cell length at which reading stops: a cell over
// MaxField is a row error, one over hardFieldLimit is an unusable file
// (memory stays bounded by this, not by the file's longest line).
const hardFieldLimit = 2 * MaxField

// hardRecordLimit is the record length at which reading stops.
const hardRecordLimit = 64 * MaxField

// FieldTooLongError stops a read at a cell longer than hardFieldLimit,
// or at a header line longer than MaxField.
type FieldTooLongError struct {
	Line   int  // physical line where the cell ends up too long
	Header bool // the header line is over MaxField
}

func (e *FieldTooLongError) Error() string {
	if e.Header {
		return fmt.Sprintf("a header line of more than %d bytes: not a customer export (the header is bounded like a field)", MaxField)
	}
	return fmt.Sprintf("a field of more than %d bytes or a record of more than %d: not a customer export (fields over %d bytes are refused)",
		hardFieldLimit, hardRecordLimit, MaxField)
}

// fieldLimit passes CSV text on, following its fields as encoding/csv
// reads them (a quote opens a field only at its start; "" inside quotes is
// a quote), and stops with a *FieldTooLongError when one is longer than
// hardFieldLimit.
type fieldLimit struct {
	r      io.Reader
	delim  byte
	line   int // lines passed, from 1, plus first (the physical line it starts on)
	n      int // bytes of the current field
	rec    int // bytes of the current record
	quoted bool
	quote  bool // inside quotes, the last byte was a quote
	err    error
	// The limits: hardFieldLimit and hardRecordLimit (newFieldLimit);
	// tests make them small.
	maxField, maxRecord int
	bytewise            bool // tests: no plainRun, the path it must agree with
	// header: the first record that is not a blank line is the header,
	// bounded like a field, by maxHeader (MaxField: a header of millions
	// of columns took 886 MB; encoding/csv allocates some 25 bytes for
	// each of its bytes). headerText: its line has more than line ends.
	header, headerText bool
	maxHeader          int
}

// newFieldLimit follows the CSV text of r, whose first line is line.
// The first line is the header when line is 1.
func newFieldLimit(r io.Reader, delim byte, line int) *fieldLimit {
	return &fieldLimit{r: r, delim: delim, line: line, maxField: hardFieldLimit, maxRecord: hardRecordLimit,
		header: line == 1, maxHeader: MaxField}
}

// recordLimit is the longest the current record may be.
func (f *fieldLimit) recordLimit() int {
	if f.header {
		return min(f.maxRecord, f.maxHeader)
	}
	return f.maxRecord
}

// endHeader lifts the header's bound at the end of a line, once the
// header has ended (encoding/csv skips blank lines before it).
func (f *fieldLimit) endHeader() {
	if f.headerText {
		f.header = false
	}
}

func (f *fieldLimit) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.r.Read(p)
	for i := 0; i < n; {
		// A run of plain bytes at once: inside quotes, up to the next
		// quote; outside, up to the next delimiter, line end or quote.
		if !f.quoted && !f.bytewise && !f.header { // the header, at most maxHeader, byte by byte
			if k := f.plainRun(p[i:n]); k > 0 {
				i += k
				continue
			}
		}
		j := i
		if f.quoted && !f.quote {
			k := bytes.IndexByte(p[i:n], '"')
			if k < 0 {
				k = n - i
			}
			f.line += bytes.Count(p[i:i+k], newline)
			j = i + k
		} else if !f.quoted {
			for j < n && p[j] != f.delim && p[j] != '\n' && p[j] != '"' {
				j++
			}
		}
		f.n += j - i
		f.rec += j - i
		if f.header && !f.headerText && bytes.ContainsFunc(p[i:j], func(r rune) bool { return r != '\r' }) {
			f.headerText = true
		}
		if j < n {
			f.step(p[j])
			f.rec++
			j++
		}
		if f.n > f.maxField || f.rec > f.recordLimit() {
			f.err = &FieldTooLongError{Line: f.line, Header: f.header}
			return i, nil
		}
		i = j
	}
	return n, err
}

var newline = []byte{'\n'}

// plainRun follows, at once, the bytes of p before its first quote, outside
// quotes: every delimiter there ends a field and every line end a record,
// so only the last of each matters, and a field of the run can only grow
// past the limit from the bytes carried in (plainRun then leaves the run to
// the byte-by-byte path, which stops at the exact line). It returns the
// bytes followed: 0 when the run is empty or might pass a limit. Most
// exports quote few cells: this reads them at the speed of IndexByte
// instead of a loop over every byte.
func (f *fieldLimit) plainRun(p []byte) int {
	run := p
	if q := bytes.IndexByte(p, '"'); q >= 0 {
		run = p[:q]
	}
	if len(run) == 0 || f.n+len(run) > f.maxField || f.rec+len(run) > f.recordLimit() {
		return 0
	}
	f.line += bytes.Count(run, newline)
	lastLine := bytes.LastIndexByte(run, '\n')
	lastField := max(lastLine, bytes.LastIndexByte(run, f.delim))
	// As step and Read count them: a record's length includes the line end
	// that starts it, a field's does not include its delimiter.
	f.rec = carry(f.rec, run, lastLine, 0)
	f.n = carry(f.n, run, lastField, 1)
	return len(run)
}

// carry is a length carried past run: what was carried plus all of run
// when nothing in it ended the field or record (end < 0), else the bytes
// after its end, less skip.
func carry(carried int, run []byte, end, skip int) int {
	if end < 0 {
		return carried + len(run)
	}
	return len(run) - end - skip
}

// step follows one byte.
func (f *fieldLimit) step(c byte) {
	if f.header && c != '\n' && c != '\r' {
		f.headerText = true
	}
	if f.quoted {
		switch {
		case f.quote && c == '"': // an escaped quote
			f.quote = false
			f.n++
			return
		case f.quote: // the closing quote was the last byte
			f.quoted, f.quote = false, false
		case c == '"':
			f.quote = true
			return
		default:
			if c == '\n' {
				f.line++
			}
			f.n++
			return
		}
	}
	switch c {
	case f.delim:
		f.n = 0
	case '\n':
		f.n, f.rec = 0, 0
		f.line++
		f.endHeader()
	case '"':
		if f.n == 0 {
			f.quoted = true
			return
		}
		f.n++
	default:
		f.n++
	}
}

// guardMode is how a Reader checks the raw bytes of its file.
type guardMode struct {
	utf8   bool // refuse bytes that are not UTF-8 (source.encoding: utf-8)
	cp1252 bool // refuse the bytes Windows-1252 leaves undefined
	bom    bool // drop a UTF-8 byte order mark
	c1     bool // refuse the bytes ISO-8859-1 decodes to C1 controls (declared.go)
	watch  bool // refuse a single-byte file that is valid UTF-8 (declared.go)
}

func (g guardMode) on() bool { return g.utf8 || g.cp1252 || g.bom || g.c1 }

// guardFor returns the decoder to use and the checks of the raw bytes: a
// UTF-8 file is read as is (its BOM dropped), never through a decoder
// that would turn bad bytes into U+FFFD; declared UTF-8, its bad bytes
// stop the read; Windows-1252's undefined bytes stop it too.
func guardFor(enc encoding.Encoding, declared string) (encoding.Encoding, guardMode) {
	switch enc {
	case unicode.UTF8BOM:
		d := strings.ToLower(declared)
		return nil, guardMode{utf8: d == "utf-8" || d == "utf8", bom: true}
	case charmap.Windows1252:
		d := strings.ToLower(declared)
		return enc, guardMode{cp1252: true, watch: d == "windows-1252" || d == "cp1252"}
	case charmap.ISO8859_1:
		return enc, guardMode{c1: true, watch: true}
	}
	return enc, guardMode{}
}
