package mapping_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"erpsync/mapping"
	"erpsync/mapping/records"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The external conformance corpus lies in ../shared beside the project
// (CI has it); a clone of the project alone does not, and its tests skip
// saying what they skipped: testdata/dialects covers the same dialects
// with fixtures of our own (TestRead_Dialects). corpusEnv names another
// folder to read it from.
const (
	corpusDefault = "../../shared/conformance/csv"
	corpusEnv     = "ERPSYNC_CONFORMANCE_CSV"
)

// corpusDir returns the corpus folder, or skips t, naming what it skipped
// (what), when the folder is absent.
func corpusDir(t *testing.T, what string) string {
	t.Helper()
	dir := corpusDefault
	if env := os.Getenv(corpusEnv); env != "" {
		dir = env
	}
	if msg := corpusMissing(dir, what); msg != "" {
		t.Skip(msg)
	}
	return dir
}

// corpusMissing returns the skip message for what when dir is not a
// folder, else "".
func corpusMissing(dir, what string) string {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return ""
	}
	return fmt.Sprintf("skipped %s: the conformance corpus %s is absent (../shared is not beside the project; set %s to its folder)",
		what, dir, corpusEnv)
}

func TestCorpus_SkipsWhenAbsent(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-corpus")
	t.Setenv(corpusEnv, missing)
	skipped, reached := false, false
	t.Run("absent", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		corpusDir(t, "the csvkit files")
		reached = true
	})
	if !skipped || reached {
		t.Errorf("skipped %v, went on %v: want a skip", skipped, reached)
	}
	want := "skipped the csvkit files: the conformance corpus " + missing + " is absent"
	if msg := corpusMissing(missing, "the csvkit files"); !strings.HasPrefix(msg, want) {
		t.Errorf("message %q, want it to start with %q", msg, want)
	}
	if msg := corpusMissing(dialects, "x"); msg != "" {
		t.Errorf("a present folder: %q", msg)
	}
}

// records reads every raw record of a file: header first.
func readRecords(t *testing.T, path, encoding, delimiter string) (*records.Reader, []records.Record) {
	t.Helper()
	r, err := records.OpenReader(path, encoding, delimiter)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { r.Close() })
	var out []records.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r, out
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		rec.Fields = slices.Clone(rec.Fields)
		out = append(out, rec)
	}
}

// TestCorpus_CSVSpectrum parses every csv-spectrum file to its expected
// JSON (header row → keys).
func TestCorpus_CSVSpectrum(t *testing.T) {
	corpus := corpusDir(t, "TestCorpus_CSVSpectrum (the 12 csv-spectrum files parsed to their JSON)")
	files, _ := filepath.Glob(filepath.Join(corpus, "csv-spectrum", "csvs", "*.csv"))
	if len(files) < 12 {
		t.Fatalf("csv-spectrum: %d files; is ../shared beside the project?", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".csv")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(corpus, "csv-spectrum", "json", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want []map[string]string
			if err := json.Unmarshal(data, &want); err != nil {
				var one map[string]string
				if json.Unmarshal(data, &one) != nil {
					t.Fatal(err)
				}
				want = []map[string]string{one}
			}
			if name == "location_coordinates" {
				// The upstream JSON disagrees with its CSV: another phone
				// number, and U+FFFD where the CSV has Latin-1 degree signs
				// (0xB0). The reader detects Windows-1252 and reads them as
				// °; that is what we check.
				want[0]["Contact Phone Number"] = "2095257564"
				want[0]["Location Coordinates"] = `37°36'37.8"N 121°2'17.9"W`
			}
			if name == "newlines_crlf" {
				// The documented deviation: encoding/csv turns CRLF inside a
				// quoted field into LF; csv-spectrum keeps CRLF.
				for _, row := range want {
					for k, v := range row {
						row[k] = strings.ReplaceAll(v, "\r\n", "\n")
					}
				}
			}
			_, recs := readRecords(t, path, "auto", ",")
			if name == "location_coordinates" {
				// Deviation, by design: its degree marks are written 37.8"N,
				// a bare quote in an unquoted field. The reader is strict
				// (LazyQuotes off, so that an unterminated quote is caught):
				// the row is a row error naming its line, the header reads.
				if len(recs) != 2 || recs[1].Err == nil || recs[1].Line != 2 || len(recs[0].Fields) != 4 {
					t.Fatalf("records = %+v", recs)
				}
				return
			}
			var got []map[string]string
			for _, rec := range recs[min(1, len(recs)):] {
				if rec.Err != nil {
					t.Fatalf("line %d: %v", rec.Line, rec.Err)
				}
				row := map[string]string{}
				for i, h := range recs[0].Fields {
					row[h] = rec.Fields[i]
				}
				got = append(got, row)
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d: %q", len(got), len(want), got)
			}
			for i := range want {
				for k, v := range want[i] {
					if got[i][k] != v {
						t.Errorf("row %d %q = %q, want %q", i, k, got[i][k], v)
					}
				}
			}
		})
	}
}

// TestCorpus_CSVKit gives each csvkit example its right outcome.
func TestCorpus_CSVKit(t *testing.T) {
	corpus := corpusDir(t, "TestCorpus_CSVKit (18 csvkit files: detection, records, row errors, decimal commas)")
	type rec struct {
		line   int
		fields []string
	}
	for _, tc := range []struct {
		file     string
		encoding string // as detected
		delim    rune
		want     []rec // after the header; nil fields: a record that is an error
	}{
		{"bad.csv", "utf-8", ',', []rec{{2, []string{"1", "27", "", "I'm too long!"}}, {3, []string{"", "I'm too short!"}}, {4, []string{"0", "mixed types.... uh oh", "17"}}}},
		{"blanks.csv", "utf-8", ',', []rec{{2, []string{"", "NA", "N/A", "NONE", "NULL", "."}}}},
		{"mac_newlines.csv", "utf-8", ',', []rec{{2, []string{"1", "2", "3"}}, {3, []string{"Once upon\na time", "5", "6"}}}},
		{"optional_quote_characters.csv", "utf-8", ',', []rec{{2, []string{"1", "2", "3"}}}},
		{"sniff_limit.csv", "utf-8", ';', []rec{{2, []string{"1", "2", "3"}}}},
		{"test_empty_columns_long_row.csv", "utf-8", ',', []rec{{2, []string{"", "", "", ""}}}},
		{"test_empty_columns_short_row.csv", "utf-8", ',', []rec{{2, []string{"", ""}}}},
		{"test_extra_header.csv", "utf-8", ',', []rec{{2, []string{"1", "2", "3"}}}},
		{"test_header_newline.csv", "utf-8", ',', []rec{{5, []string{"d", "e", "f"}}}},
		{"test_latin1.csv", "windows-1252", ',', []rec{{2, []string{"1", "2", "3"}}, {3, []string{"4", "5", "©"}}}},
		{"test_locale.csv", "utf-8", ',', []rec{{2, []string{"1,7", "200.000.000", ""}}}},
		{"test_skip_lines.csv", "utf-8", ',', []rec{{5, []string{"1", "2", "3"}}}},
		{"test_utf16_big.csv", "utf-16be", ',', []rec{{2, []string{"1", "2", "3"}}, {3, []string{"4", "5", "ʤ"}}}},
		{"test_utf16_little.csv", "utf-16le", ',', []rec{{2, []string{"1", "2", "3"}}, {3, []string{"4", "5", "ʤ"}}}},
		{"test_utf8.csv", "utf-8", ',', []rec{{2, []string{"1", "2", "3"}}, {3, []string{"4", "5", "ʤ"}}}},
		{"test_utf8_bom.csv", "utf-8", ',', []rec{{2, []string{"1", "2", "3"}}, {3, []string{"4", "5", "ʤ"}}}},
		{"null_byte.csv", "utf-8", ',', []rec{{2, []string{"\x00", "2", "3"}}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, recs := readRecords(t, filepath.Join(corpus, "csvkit", tc.file), "auto", "auto")
			if r.Encoding != tc.encoding || r.Delimiter != tc.delim {
				t.Errorf("detected %s %q, want %s %q", r.Encoding, r.Delimiter, tc.encoding, tc.delim)
			}
			if len(recs) != len(tc.want)+1 {
				t.Fatalf("%d records, want header + %d: %+v", len(recs), len(tc.want), recs)
			}
			if tc.file == "test_utf8_bom.csv" && recs[0].Fields[0] != "foo" {
				t.Errorf("header %q: the BOM was not removed", recs[0].Fields[0])
			}
			for i, w := range tc.want {
				got := recs[i+1]
				if got.Line != w.line || !slices.Equal(got.Fields, w.fields) {
					t.Errorf("record %d = line %d %q, want line %d %q", i+1, got.Line, got.Fields, w.line, w.fields)
				}
			}
		})
	}
	t.Run("empty.csv", func(t *testing.T) {
		m := mustMapping(t, autoConfig())
		_, err := m.Read(context.Background(), filepath.Join(corpus, "csvkit", "empty.csv"), func(mapping.Row) error { return nil })
		var fe *mapping.FileError
		if !errors.As(err, &fe) {
			t.Errorf("err = %v, want a file error", err)
		}
	})
	t.Run("decimal comma", func(t *testing.T) {
		for in, want := range map[string]float64{"1,7": 1.7, "200.000.000": 200000000} {
			got, err := mapping.ParseNumber(in, ",")
			if err != nil || got != want {
				t.Errorf("ParseNumber(%q) = %v, %v; want %v", in, got, err, want)
			}
		}
	})
	t.Run("row errors name their line", func(t *testing.T) {
		cfg := autoConfig()
		cfg.Columns = map[string]string{"reference": "a", "name": "b"}
		for file, want := range map[string][]string{
			"null_byte.csv":                    {"null_byte.csv line 2 column a: a NUL byte"},
			"test_empty_columns_long_row.csv":  {"test_empty_columns_long_row.csv line 2: 4 fields where the header has 3"},
			"test_empty_columns_short_row.csv": {"test_empty_columns_short_row.csv line 2: 2 fields where the header has 3"},
		} {
			got := rowErrors(t, mustMapping(t, cfg), filepath.Join(corpus, "csvkit", file))
			if !slices.Equal(got, want) {
				t.Errorf("%s: %q, want %q", file, got, want)
			}
		}
	})
}

func mustMapping(t testing.TB, cfg mapping.Config) *mapping.Mapping {
	t.Helper()
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func rowErrors(t *testing.T, m *mapping.Mapping, path string) []string {
	t.Helper()
	var out []string
	if _, err := m.Read(context.Background(), path, func(r mapping.Row) error {
		if r.Err != nil {
			out = append(out, r.Err.Error())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// sourceOf loads the source: section of a config in configs/.
func sourceOf(t *testing.T, name string) mapping.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Source mapping.Config `yaml:"source"`
	}
	doc.Source = mapping.DefaultConfig() // as a user's config is read: no auto_columns
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Source
}

// golden is a mapped export as stored under testdata/golden.
type golden struct {
	Line      int               `json:"line"`
	Reference string            `json:"reference,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	Error     string            `json:"error,omitempty"`
}

// TestCorpus_ERPSamples maps the Odoo and Dolibarr samples with their
// configs to golden canonical customers.
func TestCorpus_ERPSamples(t *testing.T) {
	corpus := corpusDir(t, "TestCorpus_ERPSamples (the Odoo and Dolibarr samples against testdata/golden)")
	for _, tc := range []struct{ sample, config string }{
		{"odoo-res.partner.csv", "odoo.yaml"},
		{"dolibarr-thirdparties.csv", "dolibarr.yaml"},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			m := mustMapping(t, sourceOf(t, tc.config))
			var got []golden
			if _, err := m.Read(context.Background(), filepath.Join(corpus, "erp-samples", tc.sample), func(r mapping.Row) error {
				if r.Err != nil {
					got = append(got, golden{Line: r.Line, Error: r.Err.Error()})
				} else {
					got = append(got, golden{Line: r.Line, Reference: r.Customer.Reference, Fields: r.Customer.Fields()})
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			data, _ := json.MarshalIndent(got, "", "  ")
			path := filepath.Join("testdata", "golden", strings.TrimSuffix(tc.sample, ".csv")+".json")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if strings.TrimSpace(string(want)) != string(data) {
				t.Errorf("%s differs from the golden file; got:\n%s", tc.sample, data)
			}
			for _, g := range got {
				if g.Error != "" {
					t.Errorf("line %d: %s", g.Line, g.Error)
				}
			}
		})
	}
}
