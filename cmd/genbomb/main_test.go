package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestRun_ZipMembers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "many.zip")
	if err := run(options{kind: "zip", out: out, members: 25, header: "KUNNR;NAME1", rows: []string{"K1;Alpha"}}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 25 || zr.File[24].Name != "customers-000025.csv" {
		t.Fatalf("%d members, last %q", len(zr.File), zr.File[len(zr.File)-1].Name)
	}
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 64)
	n, _ := f.Read(b)
	if got := string(b[:n]); got != "KUNNR;NAME1\nK1;Alpha" {
		t.Errorf("member holds %q", got)
	}
}

// TestRun_JunkWorkbook: the junk member unzips to the size asked while
// the file stays small; as a cell, excelize reads it back whole.
func TestRun_JunkWorkbook(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		o    options
	}{
		{"media", options{name: "xl/media/junk.bin"}},
		{"cell", options{name: "xl/worksheets/sheet1.xml", cell: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.kind, o.out, o.junk, o.header, o.rows = "xlsx", filepath.Join(dir, tc.name+".xlsx"), 4<<20, "KUNNR;NAME1", []string{"K1;Alpha"}
			if err := run(o); err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(o.out); err != nil || st.Size() > 256<<10 {
				t.Fatalf("the workbook is %v bytes (%v)", st.Size(), err)
			}
			zr, err := zip.OpenReader(o.out)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			var seen int
			for _, f := range zr.File {
				if f.Name == o.name {
					seen++
					if f.UncompressedSize64 < 4<<20 {
						t.Errorf("%s unzips to %d bytes", f.Name, f.UncompressedSize64)
					}
				}
			}
			if seen != 1 {
				t.Errorf("%s is there %d times", o.name, seen)
			}
			wb, err := excelize.OpenFile(o.out)
			if err != nil {
				t.Fatal(err)
			}
			defer wb.Close()
			want := "Alpha" // the sheet as written from -header and -row
			if o.cell {
				want = strings.Repeat("A", 4<<20)
			}
			cell := "B2"
			if o.cell {
				cell = "B1"
			}
			if got, err := wb.GetCellValue("Sheet1", cell); err != nil || got != want {
				t.Errorf("%s holds %d bytes, want %d (%v)", cell, len(got), len(want), err)
			}
		})
	}
}

func TestRun_Refusals(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []options{{kind: "zip"}, {kind: "tar", out: filepath.Join(dir, "x")}, {kind: "zip", out: filepath.Join(dir, "y"), members: 0}} {
		if err := run(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
		if o.out != "" {
			if _, err := os.Stat(o.out); err == nil {
				t.Errorf("%+v: %s left behind", o, o.out)
			}
		}
	}
}
