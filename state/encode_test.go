package state

import (
	"encoding/json"
	"testing"
)

// TestEncodeValues: the bytes are json.Marshal's, whatever the text.
func TestEncodeValues(t *testing.T) {
	for _, m := range []map[string]string{
		{"name": "Golden Gems 12", "city": "Paris", "empty": ""},
		{"name": `Quote " and \ back`, "b": "<a href> & co", "c": "München", "d": "tab\there\nline", "e": "\x7f\x01", "f": "bad \xff utf-8", "g": "\u2028 sep"},
		{"": "empty key", "z": "last", "a": "first"},
	} {
		got, err := encodeValues(m)
		want, _ := json.Marshal(m)
		if err != nil || string(got) != string(want) {
			t.Errorf("encodeValues(%q) = %s, %v; want %s", m, got, err, want)
		}
	}
	if got, _ := encodeValues(nil); string(got) != "{}" {
		t.Errorf("encodeValues(nil) = %s", got)
	}
}

// FuzzAppendJSONString: the bytes are json.Marshal's for any text.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"Paris", "München", "LUMIÈRE", "\u2028", "\u2029x", "bad \xff", "\xef\xbf\xbd", "<&>", "a\"b\\c", "\x7f", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
