package mapping_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"erpsync/mapping"
)

// dialects holds the project's own CSV dialect fixtures: what the external
// conformance corpus (../shared/conformance) covers, in exports of our own
// that every clone has.
const dialects = "../testdata/dialects"

// TestRead_Dialects maps each dialect fixture and checks what was detected
// and every row: its line, and its fields or its error.
func TestRead_Dialects(t *testing.T) {
	semicolons := autoConfig()
	semicolons.Decimal = ","
	for _, tc := range []struct {
		file, encoding, delimiter string
		cfg                       *mapping.Config // nil: the defaults
		want                      []string
	}{
		{"quotes.csv", "utf-8", ",", nil, []string{
			`2 Q1 comment="He said \"bonjour\"" name="Dupont, Jean"`,
			`3 Q2 comment="optional quotes" name="Plain"`,
			`4 Q3 comment="" name="Trois"`}},
		{"newlines.csv", "utf-8", ",", nil, []string{
			`2 N1 comment="x" name="Multi\nline"`,
			`4 N2 comment="a\n\nb" name="Two"`,
			`7 N3 comment="y" name="Three"`}},
		{"crlf.csv", "utf-8", ",", nil, []string{ // a CRLF inside quotes reads as LF (encoding/csv)
			`2 C1 comment="first\nsecond" name="One"`,
			`4 C2 comment="plain" name="Two"`}},
		{"bom.csv", "utf-8", ",", nil, []string{`2 U1 name="Élise ʤ"`}},
		{"semicolons.csv", "utf-8", ";", &semicolons, []string{
			`2 S1 creditLimit="5000" name="Un"`,
			`3 S2 creditLimit="-133.55" name="Dupont, Jean"`}},
		{"windows1252.csv", "windows-1252", ",", nil, []string{`2 W1 city="Zürich € ©" name="Café Ümläut"`}},
		{"nul.csv", "utf-8", ",", nil, []string{
			`2 Z1 name="Ok"`,
			`3 error: nul.csv line 3 column name: a NUL byte`,
			`4 Z3 name="Fine"`}},
		{"blank_lines.csv", "utf-8", ",", nil, []string{`4 B1 name="One"`, `6 B2 name="Two"`}},
		{"mac_cr.csv", "utf-8", ",", nil, []string{
			`2 M1 comment="two\nlines" name="One"`,
			`4 M2 comment="x" name="Two"`}},
		{"utf16le.csv", "utf-16le", ",", nil, []string{`2 L1 name="ʤ"`}},
		{"ragged.csv", "utf-8", ",", nil, []string{
			`2 error: ragged.csv line 2: 2 fields where the header has 3`,
			`3 error: ragged.csv line 3: 4 fields where the header has 3`,
			`4 R3 comment="ok" name="Three"`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg := autoConfig()
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			var got []string
			st, err := mustMapping(t, cfg).Read(context.Background(), filepath.Join(dialects, tc.file), func(r mapping.Row) error {
				got = append(got, describeRow(r))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Encoding != tc.encoding || st.Delimiter != tc.delimiter {
				t.Errorf("detected %s %q, want %s %q", st.Encoding, st.Delimiter, tc.encoding, tc.delimiter)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	t.Run("empty.csv", func(t *testing.T) {
		_, err := mustMapping(t, autoConfig()).Read(context.Background(), filepath.Join(dialects, "empty.csv"),
			func(mapping.Row) error { return nil })
		var fe *mapping.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "the file is empty") {
			t.Errorf("err = %v, want a file error saying the file is empty", err)
		}
	})
}

// describeRow writes a row as "line reference field=value…" (the fields
// but reference, by name) or "line error: message".
func describeRow(r mapping.Row) string {
	if r.Err != nil {
		return fmt.Sprintf("%d error: %v", r.Line, r.Err)
	}
	s := fmt.Sprintf("%d %s", r.Line, r.Customer.Reference)
	for _, k := range r.Customer.FieldNames() {
		if k != "reference" {
			s += fmt.Sprintf(" %s=%q", k, r.Customer.Field(k))
		}
	}
	return s
}
