package records

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// textCheck watches the decoded text on its way to the CSV reader for NUL
// bytes and bytes that are not UTF-8. While it has seen none, the records
// read so far hold none either and need no check of their own: a clean
// file (nearly every file) is checked at memory speed, in large pieces,
// instead of cell by cell.
type textCheck struct {
	r     io.Reader
	tail  [utf8.UTFMax]byte // a rune begun at the end of the last piece
	ntail int
	dirty bool // a NUL or a byte that is not UTF-8 went by: from here on, check each cell
}

func (t *textCheck) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if !t.dirty && n > 0 {
		t.scan(p[:n])
	}
	if err != nil && t.ntail > 0 {
		t.dirty = true // the text ends inside a rune
	}
	return n, err
}

// scan checks one piece of text, carrying a rune cut at its end over to
// the next piece.
func (t *textCheck) scan(b []byte) {
	if bytes.IndexByte(b, 0) >= 0 {
		t.dirty = true
		return
	}
	if t.ntail > 0 {
		// Complete the rune begun before with continuation bytes.
		need := runeLen(t.tail[0])
		i := 0
		for t.ntail < need && i < len(b) && b[i]&0xC0 == 0x80 {
			t.tail[t.ntail] = b[i]
			t.ntail++
			i++
		}
		if t.ntail < need && i == len(b) {
			return // still cut: wait for the next piece
		}
		if !utf8.Valid(t.tail[:t.ntail]) {
			t.dirty = true
			return
		}
		t.ntail = 0
		b = b[i:]
	}
	// A rune cut by the end of the piece waits for the next one.
	cut := wholeRunes(b)
	if !utf8.Valid(b[:cut]) {
		t.dirty = true
		return
	}
	t.ntail = copy(t.tail[:], b[cut:])
}

// wholeRunes returns where a rune cut by the end of b begins: len(b)
// when none is.
func wholeRunes(b []byte) int {
	for i := len(b) - 1; i >= 0 && i > len(b)-utf8.UTFMax; i-- {
		if b[i] < utf8.RuneSelf {
			break
		}
		if b[i] >= 0xC0 { // a lead byte
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// runeLen is the length of the rune a lead byte begins.
func runeLen(lead byte) int {
	switch {
	case lead >= 0xF0:
		return 4
	case lead >= 0xE0:
		return 3
	}
	return 2
}
