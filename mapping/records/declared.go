package records

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// A file declared in a single-byte encoding (source.encoding:
// windows-1252 or iso-8859-1) may be in another: a UTF-8 export read as
// Windows-1252 sends "KÃ¶niglich" for "Königlich", a Windows-1252 export
// read as ISO-8859-1 sends the C1 control U+0080 for €. Neither byte is
// refused by the declared encoding, so both are told by their shape:
// bytes that decode to a C1 control stop the read at once (byteGuard), and
// a file that turns out to be valid UTF-8 as a whole, with multi-byte
// sequences, stops it at its end (utf8Watch), before anything of it is
// used, naming the line of its first multi-byte character.

// WrongEncodingError is a file that is, by its bytes, in another encoding
// than the one declared.
type WrongEncodingError struct {
	Line     int    // physical line of the first telling byte
	Offset   int64  // of that byte in the file, from 0
	Bytes    []byte // the telling byte or rune
	Declared string // source.encoding
	Likely   string // the encoding the bytes say
}

func (e *WrongEncodingError) Error() string {
	if e.Likely == "utf-8" {
		return fmt.Sprintf("the file is valid UTF-8, not %s: its first multi-byte character (byte %d, %q) would be sent as %q; "+
			"it is probably utf-8: set source.encoding: utf-8 (or auto)",
			e.Declared, e.Offset+1, e.Bytes, decode1252(e.Bytes))
	}
	return fmt.Sprintf("byte %d of the file, 0x%02X, is a C1 control character in %s (%q in windows-1252); "+
		"the file is probably windows-1252: set source.encoding: windows-1252",
		e.Offset+1, e.Bytes[0], e.Declared, decode1252(e.Bytes))
}

// decode1252 shows bytes as Windows-1252 reads them.
func decode1252(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// isC1 reports a byte that ISO-8859-1 decodes to a C1 control character.
func isC1(c byte) bool { return c >= 0x80 && c <= 0x9F }

// utf8Watch passes the raw bytes of a file declared in a single-byte
// encoding on, and ends it with a *WrongEncodingError instead of io.EOF
// when the whole file was valid UTF-8 holding a multi-byte sequence. Once
// a byte is not UTF-8 it only passes bytes on.
type utf8Watch struct {
	r        io.Reader
	declared string
	lineEnd  byte
	line     int   // of the next byte, while no multi-byte rune is seen
	offset   int64 // of the next byte
	tail     []byte
	first    *WrongEncodingError // the first multi-byte rune
	invalid  bool                // a byte that is not UTF-8 went by
}

func newUTF8Watch(r io.Reader, declared string, crOnly bool) *utf8Watch {
	w := &utf8Watch{r: r, declared: declared, lineEnd: '\n', line: 1}
	if crOnly {
		w.lineEnd = '\r'
	}
	return w
}

func (w *utf8Watch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if !w.invalid {
		w.scan(p[:n])
	}
	if errors.Is(err, io.EOF) && !w.invalid && len(w.tail) == 0 && w.first != nil {
		return n, w.first
	}
	return n, err
}

// utf8SoFar reports whether the file, as far as it was read, is valid
// UTF-8 with a multi-byte sequence: a byte the declared encoding refuses
// is then a UTF-8 continuation byte, and first says so.
func (w *utf8Watch) utf8SoFar() bool { return w != nil && !w.invalid && w.first != nil }

// scan follows one piece of the file, carrying a rune cut at its end
// over to the next piece.
func (w *utf8Watch) scan(b []byte) {
	start := w.offset - int64(len(w.tail))
	w.offset += int64(len(b))
	if len(w.tail) > 0 {
		b = append(w.tail, b...)
		w.tail = nil
	}
	cut := wholeRunes(b)
	if !utf8.Valid(b[:cut]) {
		w.invalid = true
		return
	}
	w.tail = append([]byte(nil), b[cut:]...)
	if w.first != nil {
		return
	}
	for i, c := range b[:cut] {
		if c >= utf8.RuneSelf {
			_, size := utf8.DecodeRune(b[i:cut])
			w.first = &WrongEncodingError{Line: w.line + bytes.Count(b[:i], []byte{w.lineEnd}), Offset: start + int64(i),
				Bytes: append([]byte(nil), b[i:i+size]...), Declared: w.declared, Likely: "utf-8"}
			return
		}
	}
	w.line += bytes.Count(b[:cut], []byte{w.lineEnd})
}
