package records

import (
	"bytes"
	"io"
	"testing"
	"unicode/utf8"
)

// chunked hands out its data size bytes at a time, as a file or a decoder
// may.
type chunked struct {
	data []byte
	size int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.size)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// cleanText is what textCheck must conclude about a whole text.
func cleanText(b []byte) bool { return bytes.IndexByte(b, 0) < 0 && utf8.Valid(b) }

func checkPieces(t *testing.T, data []byte, size int) {
	t.Helper()
	tc := &textCheck{r: &chunked{data: data, size: size}}
	got, err := io.ReadAll(tc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("textCheck changed the text: %q, %v", got, err)
	}
	if want := !cleanText(data); tc.dirty != want {
		t.Fatalf("%q in pieces of %d: dirty = %v, want %v", data, size, tc.dirty, want)
	}
}

func TestTextCheck(t *testing.T) {
	for _, s := range []string{
		"", "plain ascii;1;2\n", "Müller;Straße;Zürich\n", "日本語;€;𝄞\n",
		"a\x00b", "caf\xe9", "\xff", "ends in a cut rune \xe2\x82", "\xe2\x82\xac", "\xf0\x9d\x84\x9e",
		"\xc3", "\xc3(", "\xed\xa0\x80", // a lone lead, a bad continuation, a surrogate
	} {
		for size := 1; size <= len(s)+1; size++ {
			checkPieces(t, []byte(s), size)
		}
	}
}

// FuzzTextCheck: in any pieces, textCheck says what a check of the whole
// text says.
func FuzzTextCheck(f *testing.F) {
	for _, s := range []string{"Müller;Straße\n", "€𝄞", "a\x00b", "caf\xe9", "\xe2\x82", "\xc3("} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		checkPieces(t, data, int(size)+1)
	})
}
