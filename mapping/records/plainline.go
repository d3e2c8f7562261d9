package records

// Plain lines (issue 25 §3: a plan at most 3× the bare read). Nearly
// every line of an export holds no quote: its record is its text cut at
// each delimiter. encoding/csv spends most of a read on such lines,
// field by field (an IndexRune, a copy into its buffer, an index and a
// position for each cell); here a line is found with one search of the
// buffered text, checked for a quote with another, made one string, and
// cut into cells sliced from it, which go straight into the caller's
// slab; a line the reader's keep refuses (SkipLines) is not even made a
// string. A line that holds a quote, a line longer than what is buffered,
// the last line of a file without its line end, and any read error are
// left to encoding/csv, which reads on from the same buffer: the records,
// their lines and errors are those encoding/csv alone gives, but for the
// cells of the plain lines refused (FuzzReader_PlainLines holds the two
// to each other, FuzzReader_SkipLines the lines skipped to those kept).

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"strings"
)

// plainLines reads the plain lines of a CSV stream from the buffer that
// its csv.Reader reads too, and keeps the stream's line count across the
// two.
type plainLines struct {
	buf   *bufio.Reader
	delim byte // 0: no plain line is read (a delimiter beyond ASCII)
	// lines is how many lines of the stream were read, by either;
	// csvLines how many of them encoding/csv has counted by the end of
	// its last record.
	lines, csvLines int
}

// noPlainLines makes every reader leave every record to encoding/csv:
// the tests' reference for plain lines.
var noPlainLines = false

// newPlainLines follows buf, the buffer of c, as c is set: a plain line
// is a record only as c reads it with no comment character, leading
// spaces kept and any number of cells a record (a line "#x,1" is no
// record with Comment '#'; " a" loses its space with TrimLeadingSpace),
// and otherwise none is read. Nor is any when encoding/csv would not
// read from buf itself (csv.NewReader buffers again, through
// bufio.NewReader, a buffer under 4096 bytes): it would read ahead of
// the plain lines.
func newPlainLines(buf *bufio.Reader, c *csv.Reader) *plainLines {
	p := &plainLines{buf: buf}
	shared := bufio.NewReader(buf) == buf // what csv.NewReader reads from
	asCut := c.Comment == 0 && !c.TrimLeadingSpace && c.FieldsPerRecord < 0
	delim := c.Comma
	if !noPlainLines && shared && asCut && delim > 0 && delim < 0x80 && delim != '"' && delim != '\r' && delim != '\n' {
		p.delim = byte(delim)
	}
	return p
}

// next reads the next record when it is a plain line, after the empty
// lines before it (encoding/csv skips them): its cells are appended to
// slab (growSlab's, of perSlab records), and line is the stream's line
// it is on (1 for the first). A line that keep (when not nil) refuses,
// its line plus offset, comes with no cells: neither copied nor cut. ok
// false leaves the record, and the empty lines before it, to
// encoding/csv.
func (p *plainLines) next(slab []string, perSlab int, keep func(line int) bool, offset int) (_ []string, fields []string, line int, ok bool) {
	if p.delim == 0 {
		return slab, nil, 0, false
	}
	for {
		text, ok := p.peekLine()
		if !ok {
			return slab, nil, 0, false
		}
		content := text[:len(text)-1]
		if n := len(content); n > 0 && content[n-1] == '\r' {
			content = content[:n-1] // \r\n, as encoding/csv reads it
		}
		if len(content) > 0 && bytes.IndexByte(content, '"') >= 0 {
			return slab, nil, 0, false
		}
		p.buf.Discard(len(text))
		p.lines++
		if len(content) == 0 {
			continue // an empty line: skipped
		}
		if keep != nil && !keep(p.lines+offset) {
			return slab, nil, p.lines, true
		}
		slab = growSlab(slab, bytes.Count(content, []byte{p.delim})+1, perSlab)
		start := len(slab)
		slab = cut(slab, string(content), p.delim)
		return slab, slab[start:len(slab):len(slab)], p.lines, true
	}
}

// peekLine returns the next line, its line end included, as buffered:
// ok false when the buffer holds no whole line even once filled (a line
// longer than the buffer, the file's last line without a line end, a
// read error).
func (p *plainLines) peekLine() ([]byte, bool) {
	b, _ := p.buf.Peek(p.buf.Buffered())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], true
	}
	b, _ = p.buf.Peek(p.buf.Size()) // fills it; an error is encoding/csv's to meet
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], true
	}
	return nil, false
}

// cut appends s's cells, cut at each delim, to slab (which has room).
// Each delimiter is found with strings.IndexByte, which compares many
// bytes at a time: a byte at a time took a third of the plain read
// (0.3 CPU s of a million lines of 25 cells).
func cut(slab []string, s string, delim byte) []string {
	for {
		i := strings.IndexByte(s, delim)
		if i < 0 {
			return append(slab, s)
		}
		slab = append(slab, s[:i])
		s = s[i+1:]
	}
}

// csvRecord accounts for a record that encoding/csv read (fields, its
// last cell last): the stream's line it starts on.
func (p *plainLines) csvRecord(c *csv.Reader, fields []string) int {
	start, _ := c.FieldPos(0)
	end, _ := c.FieldPos(len(fields) - 1)
	end += strings.Count(fields[len(fields)-1], "\n") // a quoted cell's lines
	return p.csvThrough(start, end)
}

// csvThrough accounts for encoding/csv's read through its line end
// (its count), of a record or an error from its line start: it returns
// the stream's line of start.
func (p *plainLines) csvThrough(start, end int) int {
	line := p.lines + start - p.csvLines
	p.lines += end - p.csvLines
	p.csvLines = end
	return line
}

// sticky gives its reader's first error again at every later read: a
// Peek of the buffer above it takes a read error out of the buffer
// (bufio.Reader returns an error once), and encoding/csv must still meet
// it where its read gets to it (source.max_bytes, a field too long, EOF).
type sticky struct {
	r   io.Reader
	err error
}

func (s *sticky) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.err = err
	return n, err
}
