package plan

import (
	"encoding/hex"
	"strconv"
	"testing"
)

// TestHashPrefix reads hashes as strconv.ParseUint of their first 16 hex
// digits did: whatever the case, short, or not hex at all (1).
func TestHashPrefix(t *testing.T) {
	for _, h := range []string{
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"FFFFFFFFFFFFFFFF0000", "0000000000000000", "00000000000000ff", "abc", "", "h", "12g4", "-1", "+1", "\x10f", "1\x10", "1\x00", "@", "`", "G", "g", "/", ":",
	} {
		want, _ := strconv.ParseUint(h[:min(len(h), 16)], 16, 64)
		if got := hashPrefix(h); got != want|1 {
			t.Errorf("hashPrefix(%q) = %x, want %x", h, got, want|1)
		}
	}
}

// TestBytesPrefix reads a hash given as its bytes as hashPrefix reads
// its hex digits: 8 bytes, fewer, none.
func TestBytesPrefix(t *testing.T) {
	for _, h := range []string{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "ffffffffffffffff00", "00000000000000ff", "abcd", ""} {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := bytesPrefix(b), hashPrefix(h); got != want {
			t.Errorf("bytesPrefix(%x) = %x, want %x", b, got, want)
		}
	}
}
