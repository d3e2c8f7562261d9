package mapping_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"erpsync/mapping"
)

// sameData is one export written as CSV; the workbook test writes the
// same data as Excel would hold it.
const sameData = "reference,name,creditLimit,created\n" +
	"000123,Acme,1234.5678,2026-03-01\n" +
	"000042,Zeros,0.1,2025-12-31\n" +
	"C7,Seven,-5,2024-02-29\n"

// readExport maps an export and returns its rows' customers by reference,
// and the row errors.
func readExport(t *testing.T, cfg mapping.Config, path string) (map[string]map[string]string, []string, error) {
	t.Helper()
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	var rowErrs []string
	_, err = m.Read(context.Background(), path, func(r mapping.Row) error {
		if r.Err != nil {
			rowErrs = append(rowErrs, r.Err.Error())
			return nil
		}
		f := maps.Clone(r.Customer.Fields())
		f["_line"] = string(rune('0' + r.Line))
		f["_hash"] = r.Customer.Hash
		got[r.Customer.Reference] = f
		return nil
	})
	return got, rowErrs, err
}

func sameConfig() mapping.Config {
	cfg := autoConfig()
	cfg.Columns = map[string]string{"comment": "created"}
	return cfg
}

func write(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// workbook writes sameData as a finance team would: a text reference with
// zeros, a number shown zero-padded, a decimal shown rounded to cents,
// dates as date cells shown dd/mm/yyyy.
func workbook(t *testing.T, path string, extra func(f *excelize.File)) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	const sh = "Sheet1"
	cents, _ := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	padded, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("000000")})
	dmy, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("dd/mm/yyyy")})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow(sh, "A1", &[]any{"reference", "name", "creditLimit", "created"}))
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	rows := [][]any{
		{"000123", "Acme", 1234.5678, day(2026, 3, 1)},
		{42, "Zeros", 0.1, day(2025, 12, 31)},
		{"C7", "Seven", -5, day(2024, 2, 29)},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		must(f.SetSheetRow(sh, cell, &r))
		must(f.SetCellStyle(sh, "C"+string(rune('2'+i)), "C"+string(rune('2'+i)), cents))
		must(f.SetCellStyle(sh, "D"+string(rune('2'+i)), "D"+string(rune('2'+i)), dmy))
	}
	must(f.SetCellStyle(sh, "A3", "A3", padded))
	if extra != nil {
		extra(f)
	}
	must(f.SaveAs(path))
	return path
}

func ptr[T any](v T) *T { return &v }

func TestRead_WorkbookPlansAsCSV(t *testing.T) {
	dir := t.TempDir()
	want, _, err := readExport(t, sameConfig(), write(t, filepath.Join(dir, "customers.csv"), []byte(sameData)))
	if err != nil {
		t.Fatal(err)
	}
	got, rowErrs, err := readExport(t, sameConfig(), workbook(t, filepath.Join(dir, "customers.xlsx"), nil))
	if err != nil || len(rowErrs) > 0 {
		t.Fatalf("read: %v %v", err, rowErrs)
	}
	if !maps.EqualFunc(got, want, maps.Equal) {
		t.Errorf("workbook customers:\n%v\nwant (as the CSV):\n%v", got, want)
	}
	if got["000042"]["creditLimit"] == "" || len(want) != 3 {
		t.Errorf("expected 3 customers with their credit limits: %v", got)
	}

	t.Run("date cells whatever date_format says", func(t *testing.T) {
		cfg := sameConfig()
		cfg.DateFormat = "02.01.2006"
		got, _, err := readExport(t, cfg, filepath.Join(dir, "customers.xlsx"))
		if err != nil || got["C7"]["comment"] != "29.02.2024" {
			t.Errorf("created = %q (%v), want 29.02.2024", got["C7"]["comment"], err)
		}
	})
	t.Run("row errors name sheet!row", func(t *testing.T) {
		path := workbook(t, filepath.Join(dir, "bad.xlsx"), func(f *excelize.File) {
			_ = f.SetCellValue("Sheet1", "C3", "a lot")
		})
		_, rowErrs, err := readExport(t, sameConfig(), path)
		if err != nil || len(rowErrs) != 1 || !strings.Contains(rowErrs[0], "bad.xlsx Sheet1!3 column creditLimit") {
			t.Errorf("row errors %q (%v), want one at Sheet1!3 column creditLimit", rowErrs, err)
		}
		// A lazy row mapped by the plan names its sheet too.
		m, err := mapping.New(sameConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, lazyMapped := readRows(t, m, path, true)
		var lazyErrs []string
		for _, r := range lazyMapped {
			if r.Err != nil {
				lazyErrs = append(lazyErrs, r.Err.Error())
			}
		}
		if len(lazyErrs) != 1 || lazyErrs[0] != rowErrs[0] {
			t.Errorf("lazily read and mapped: row errors %q, want %q", lazyErrs, rowErrs)
		}
	})
	t.Run("source.sheet", func(t *testing.T) {
		path := workbook(t, filepath.Join(dir, "two.xlsx"), func(f *excelize.File) {
			_, _ = f.NewSheet("Notes")
			_ = f.SetSheetRow("Notes", "A1", &[]any{"reference", "name"})
			_ = f.SetSheetRow("Notes", "A5", &[]any{"N1", "Only on Notes"})
		})
		cfg := sameConfig()
		cfg.Columns = nil
		cfg.Sheet = "Notes"
		got, _, err := readExport(t, cfg, path)
		if err != nil || len(got) != 1 || got["N1"]["_line"] != "5" {
			t.Errorf("sheet Notes: %v (%v), want N1 on row 5", got, err)
		}
		cfg.Sheet = "Missing"
		_, _, err = readExport(t, cfg, path)
		var fe *mapping.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), `"Notes"`) {
			t.Errorf("missing sheet: %v, want a FileError listing the sheets", err)
		}
	})
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}

func zipped(t *testing.T, members map[string]string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, content := range members {
		f, _ := w.Create(name)
		_, _ = f.Write([]byte(content))
	}
	_ = w.Close()
	return b.Bytes()
}

func TestRead_Containers(t *testing.T) {
	dir := t.TempDir()
	want, _, err := readExport(t, sameConfig(), write(t, filepath.Join(dir, "customers.csv"), []byte(sameData)))
	if err != nil {
		t.Fatal(err)
	}
	full := gz(t, []byte(sameData))
	cases := []struct {
		name, file string
		data       []byte
		member     string
		wantErr    string // "" reads as the CSV
	}{
		{"gzip", "c.csv.gz", full, "", ""},
		{"zip of one", "c.zip", zipped(t, map[string]string{"export/customers.csv": sameData, "__MACOSX/._customers.csv": "x"}), "", ""},
		{"zip member named", "m.zip", zipped(t, map[string]string{"a.csv": sameData, "b.csv": "reference\nX\n"}), "a.csv", ""},
		{"zip of several", "s.zip", zipped(t, map[string]string{"a.csv": sameData, "b.csv": "x"}), "", `2 files ("a.csv", "b.csv"): name the export with source.zip_member`},
		{"gz that is text", "t.csv.gz", []byte(sameData), "", "the name says gzip (.gz) but the content is text (CSV)"},
		{"csv that is gzip", "g.csv", full, "", "the name says text (CSV) but the content is gzip (.gz)"},
		{"xlsx that is text", "x.xlsx", []byte(sameData), "", "the name says an Excel workbook (.xlsx) but the content is text"},
		{"gzip cut short", "cut.csv.gz", full[:len(full)-12], "", "unexpected EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := sameConfig()
			cfg.ZipMember = c.member
			got, _, err := readExport(t, cfg, write(t, filepath.Join(dir, c.file), c.data))
			if c.wantErr == "" {
				if err != nil || !maps.EqualFunc(got, want, maps.Equal) {
					t.Errorf("got %v (%v), want %v", got, err, want)
				}
				return
			}
			var fe *mapping.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("err = %v, want a *mapping.FileError with %q", err, c.wantErr)
			}
		})
	}
}

// TestRead_NeverThroughALink: an export that is a symbolic link (to
// /proc/self/environ, a key file) is refused, whatever its format, and
// the error quotes nothing of what the link points at.
func TestRead_NeverThroughALink(t *testing.T) {
	dir := t.TempDir()
	const secret = "reference,CRM_TOKEN=s3cr3t\nC1,x\n"
	for _, name := range []string{"x.csv", "x.csv.gz", "x.zip"} {
		t.Run(name, func(t *testing.T) {
			data := []byte(secret)
			switch filepath.Ext(name) {
			case ".gz":
				data = gz(t, data)
			case ".zip":
				data = zipped(t, map[string]string{"c.csv": secret})
			}
			target := write(t, filepath.Join(dir, "target-"+name), data)
			link := filepath.Join(dir, name)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			_, _, err := readExport(t, sameConfig(), link)
			var fe *mapping.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("err = %v, want a *mapping.FileError refusing the link", err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the target's content is in the error: %v", err)
			}
		})
	}
}

// TestRead_ZipDuplicateMembersRefused: two members of one name are read
// as the first by Go and as the second by unzip and Python: such a zip
// is refused (exit 2), and so is a zip_member that names two members.
func TestRead_ZipDuplicateMembersRefused(t *testing.T) {
	dir := t.TempDir()
	twice := func(first, second string, names ...string) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for i, name := range names {
			f, _ := w.Create(name)
			_, _ = f.Write([]byte([]string{first, second}[i%2]))
		}
		_ = w.Close()
		return b.Bytes()
	}
	other := "reference,name,created\nEVIL,Evil,2026-01-01\n"
	cases := []struct{ name, member, want string }{
		{"same name, member set", "customers.csv", `"customers.csv" twice`},
		{"same name, no member", "", `"customers.csv" twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := sameConfig()
			cfg.ZipMember = c.member
			path := write(t, filepath.Join(dir, "d.zip"), twice(sameData, other, "customers.csv", "customers.csv"))
			_, _, err := readExport(t, cfg, path)
			var fe *mapping.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want a *mapping.FileError with %q", err, c.want)
			}
		})
	}
	t.Run("member in two folders", func(t *testing.T) {
		cfg := sameConfig()
		cfg.ZipMember = "customers.csv"
		path := write(t, filepath.Join(dir, "f.zip"), twice(sameData, other, "a/customers.csv", "b/customers.csv"))
		_, _, err := readExport(t, cfg, path)
		if err == nil || !strings.Contains(err.Error(), `"a/customers.csv", "b/customers.csv"`) {
			t.Errorf("err = %v, want a refusal naming both members", err)
		}
	})
}

// TestRead_MaxBytes: an export larger than source.max_bytes, as read
// (decompressed for .gz and .zip), stops the run (a *mapping.FileError,
// exit 2); one of exactly that size is read.
func TestRead_MaxBytes(t *testing.T) {
	dir := t.TempDir()
	big := sameData + strings.Repeat("C9,Nine,1,2024-01-01\n", 5000) // 105 KB: past the sniffed head; a few hundred bytes gzipped
	cases := []struct {
		name string
		data []byte
	}{
		{"big.csv", []byte(big)},
		{"big.csv.gz", gz(t, []byte(big))},
		{"big.zip", zipped(t, map[string]string{"c.csv": big})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := sameConfig()
			cfg.MaxBytes = int64(len(big)) - 1
			path := write(t, filepath.Join(dir, c.name), c.data)
			_, _, err := readExport(t, cfg, path)
			var fe *mapping.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "source.max_bytes") {
				t.Errorf("err = %v, want a *mapping.FileError naming source.max_bytes", err)
			}
			cfg.MaxBytes = int64(len(big))
			if _, _, err := readExport(t, cfg, path); err != nil {
				t.Errorf("at exactly max_bytes: %v", err)
			}
		})
	}
}
