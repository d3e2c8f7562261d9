package mapping_test

import (
	"errors"
	"strings"
	"testing"

	"erpsync/mapping"
)

// TestRead_WrongDeclaredEncoding: a file declared in a single-byte
// encoding that is valid UTF-8 with multi-byte sequences (a UTF-8 export
// declared windows-1252 sent "KÃ¶niglich"), or whose bytes decode to C1
// control characters (a Windows-1252 export declared iso-8859-1 sent
// U+0080 for €), stops the read with a file error naming the line and
// the likely encoding.
func TestRead_WrongDeclaredEncoding(t *testing.T) {
	utf8File := "reference,name\nA,Alpha\nB,Königlich\nC,Çava\n"
	var long strings.Builder // the first multi-byte rune far beyond the first 64 KiB read
	long.WriteString("reference,name\n")
	for i := range 5000 {
		long.WriteString("K" + strings.Repeat("x", 20) + ",Plain name " + string(rune('a'+i%26)) + "\n")
	}
	long.WriteString("Z,Zürich\n")
	for _, tc := range []struct {
		name, encoding, content string
		line                    int    // of the file error; 0 for none
		says                    string // in the file error
	}{
		{"utf-8 declared windows-1252", "windows-1252", utf8File, 3, "utf-8"},
		{"utf-8 declared iso-8859-1", "iso-8859-1", utf8File, 3, "utf-8"},
		{"utf-8 declared cp1252, first rune past 64 KiB", "cp1252", long.String(), 5002, "utf-8"},
		{"utf-8 with Á (0x81 in windows-1252) declared windows-1252", "windows-1252", "reference,name\nA,Ok\nB,\xc3\xb6\xc3\x81\n", 3, "utf-8"},
		{"windows-1252 declared iso-8859-1", "iso-8859-1", "reference,name\nA,Caf\xe9\nB,Price \x80 5\n", 3, "windows-1252"},
		{"windows-1252 as declared", "windows-1252", "reference,name\nA,Caf\xe9\nB,Price \x80 5\n", 0, ""},
		{"latin-1 as declared", "latin1", "reference,name\nA,Caf\xe9\nB,M\xfcnchen\n", 0, ""},
		{"ascii declared windows-1252", "windows-1252", "reference,name\nA,Alpha\n", 0, ""},
		// Ã¶ then a lone é: not UTF-8 as a whole, a Windows-1252 file after all.
		{"windows-1252 that looks like utf-8 at first", "windows-1252", "reference,name\nA,K\xc3\xb6\nB,Caf\xe9\n", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := autoConfig()
			cfg.Encoding = tc.encoding
			rows, err := readAll(t, cfg, tc.content)
			var fe *mapping.FileError
			if tc.line == 0 {
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if r.Err != nil {
						t.Errorf("row error %v", r.Err)
					}
				}
				return
			}
			if !errors.As(err, &fe) || fe.Line != tc.line || !strings.Contains(err.Error(), tc.says) ||
				!strings.Contains(err.Error(), "source.encoding") {
				t.Fatalf("err = %v, want a file error at line %d naming %s and source.encoding", err, tc.line, tc.says)
			}
		})
	}
}
