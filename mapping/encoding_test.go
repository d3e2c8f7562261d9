package mapping_test

import (
	"errors"
	"strings"
	"testing"

	"erpsync/mapping"
)

// TestRead_DeclaredEncoding: bytes the declared encoding cannot hold stop
// the read with a file error naming the line and the byte; no U+FFFD is
// made up.
func TestRead_DeclaredEncoding(t *testing.T) {
	cp1252 := "reference,name,city\nA,Alpha,Paris\nB,Beta,M\xe9xico D.F.\n"
	for _, tc := range []struct {
		name, encoding, content string
		want                    string // in the file error; "" for none
	}{
		{"utf-8 on Windows-1252", "utf-8", cp1252, "line 3: byte 43 of the file, 0xE9, is not utf-8"},
		{"utf-8 with a BOM on Windows-1252", "utf-8", "\xef\xbb\xbf" + cp1252, "line 3: byte 46 of the file, 0xE9, is not utf-8"},
		{"Windows-1252 undefined byte", "windows-1252", "reference,name\nA,Al\x81pha\n", "line 2: byte 20 of the file, 0x81, is not windows-1252"},
		{"auto on Windows-1252", "auto", cp1252, ""},
		{"utf-8 on UTF-8", "utf-8", "\xef\xbb\xbfreference,name\nA,Élise\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := autoConfig()
			cfg.Encoding = tc.encoding
			rows, err := readAll(t, cfg, tc.content)
			var fe *mapping.FileError
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || fe.Line == 0 {
				t.Fatalf("err = %v, want a file error saying %q", err, tc.want)
			}
			for _, r := range rows {
				if r.Customer != nil && strings.ContainsRune(strings.Join([]string{r.Customer.Field("name"), r.Customer.Field("city")}, ""), '\uFFFD') {
					t.Errorf("line %d: a U+FFFD that the file does not hold", r.Line)
				}
			}
		})
	}
	// auto with a BOM: bad bytes are row errors, as without a BOM.
	rows, err := readAll(t, autoConfig(), "\xef\xbb\xbfreference,name\nA,Al\xe9\nB,Beta\n")
	if err != nil || len(rows) != 2 || rows[0].Err == nil || rows[1].Err != nil {
		t.Errorf("rows %v, err %v", rows, err)
	}
}

// TestRead_CROnlyLines: old Mac files count their lines once, whatever
// the encoding, after a quoted line end and after an unterminated quote.
func TestRead_CROnlyLines(t *testing.T) {
	lf := "reference,name,comment\nA,Alpha,\"two\nlines\"\nB,Beta\nC,Gamma,\"never closed\nD,Delta,ok\nE,É,x\n"
	want := []string{"2 A", "4 error", "5 error", "6 D", "7 E"}
	for _, enc := range []string{"auto", "utf-8", "windows-1252"} {
		content := strings.ReplaceAll(lf, "\n", "\r")
		if enc == "windows-1252" {
			content = strings.ReplaceAll(content, "É", "\xc9")
		}
		cfg := autoConfig()
		cfg.Encoding = enc
		rows, err := readAll(t, cfg, content)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			if r.Err != nil {
				got = append(got, strings.Fields(describeRow(r))[0]+" error")
			} else {
				got = append(got, strings.Join(strings.Fields(describeRow(r))[:2], " "))
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: rows %q, want %q", enc, got, want)
		}
	}
}
