// Command genbomb writes the hostile exports of issue 26 ("Bounded and
// sealed") that a shell cannot make cheaply, for scripts/sealed-acceptance.sh:
//
//	genbomb -kind zip  -members 300000 -out many.zip      a zip of that many CSV members
//	genbomb -kind xlsx -junk 1073741824 -out junk.xlsx    a small workbook with a member of zeros
//	    -junk-name xl/worksheets/sheet1.xml [-junk-cell]   the junk as the sheet read (one 1 GiB cell)
//
// Both are small on disk: the zip's members are stored (a few bytes each),
// the workbook's junk member is deflated (1 GiB of zeros is about 1 MB).
// The workbook's sheet holds a header and the customers given by -row
// (cells separated by ";"), so that a test can look for their values.
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

type options struct {
	kind    string
	out     string
	members int
	junk    int64
	name    string
	cell    bool
	header  string
	rows    []string
}

func main() {
	var o options
	var rows rowList
	flag.StringVar(&o.kind, "kind", "", "zip or xlsx")
	flag.StringVar(&o.out, "out", "", "file to write")
	flag.IntVar(&o.members, "members", 300_000, "zip: number of CSV members")
	flag.Int64Var(&o.junk, "junk", 1<<30, "xlsx: bytes of zeros in the junk member")
	flag.StringVar(&o.name, "junk-name", "xl/media/junk.bin", "xlsx: the junk member's name (a sheet's name replaces that sheet)")
	flag.BoolVar(&o.cell, "junk-cell", false, "xlsx: the junk member is a worksheet of one header row whose second cell is -junk bytes of 'A' (valid XML), not zeros")
	flag.StringVar(&o.header, "header", "KUNNR;NAME1;LAND1", "the sheet's header (xlsx) or each member's (zip), cells separated by ;")
	flag.Var(&rows, "row", "a row of the sheet or of each member, cells separated by ; (repeatable)")
	flag.Parse()
	o.rows = rows
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "genbomb:", err)
		os.Exit(1)
	}
}

// rowList collects the repeated -row flags.
type rowList []string

func (r *rowList) String() string     { return strings.Join(*r, "|") }
func (r *rowList) Set(v string) error { *r = append(*r, v); return nil }

func run(o options) error {
	if o.out == "" {
		return fmt.Errorf("-out is required")
	}
	f, err := os.Create(o.out)
	if err != nil {
		return err
	}
	switch o.kind {
	case "zip":
		err = writeManyMembers(f, o)
	case "xlsx":
		err = writeJunkWorkbook(f, o)
	default:
		err = fmt.Errorf("-kind %q: want zip or xlsx", o.kind)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.out)
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	return nil
}

// writeManyMembers writes a zip of o.members stored CSV members, each the
// header and the rows.
func writeManyMembers(w io.Writer, o options) error {
	if o.members < 1 {
		return fmt.Errorf("-members %d: want at least 1", o.members)
	}
	body := []byte(o.header + "\n" + strings.Join(o.rows, "\n"))
	zw := zip.NewWriter(w)
	for i := range o.members {
		m, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("customers-%06d.csv", i+1), Method: zip.Store})
		if err != nil {
			return fmt.Errorf("member %d: %w", i+1, err)
		}
		if _, err := m.Write(body); err != nil {
			return fmt.Errorf("member %d: %w", i+1, err)
		}
	}
	return zw.Close()
}

// writeJunkWorkbook writes an .xlsx: excelize's new workbook with the
// header and rows in its first sheet, plus the member o.name (replacing
// one of that name), o.junk zero bytes deflated at the best compression.
func writeJunkWorkbook(w io.Writer, o options) error {
	base, err := sheetWorkbook(o.header, o.rows)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		return fmt.Errorf("read the new workbook: %w", err)
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, m := range zr.File {
		if m.Name == o.name {
			continue
		}
		if err := zw.Copy(m); err != nil {
			return fmt.Errorf("copy %s: %w", m.Name, err)
		}
	}
	junk, err := zw.CreateHeader(&zip.FileHeader{Name: o.name, Method: zip.Deflate})
	if err != nil {
		return err
	}
	if err := writeJunk(junk, o); err != nil {
		return fmt.Errorf("junk member %s: %w", o.name, err)
	}
	return zw.Close()
}

// writeJunk writes o.junk zero bytes, or with o.cell a worksheet whose
// header row's second cell is o.junk bytes of 'A'.
func writeJunk(w io.Writer, o options) error {
	if !o.cell {
		_, err := io.CopyN(w, zeros{}, o.junk)
		return err
	}
	first, _, _ := strings.Cut(o.header, ";")
	if _, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`+
		`<c r="A1" t="inlineStr"><is><t>%s</t></is></c><c r="B1" t="inlineStr"><is><t>`, first); err != nil {
		return err
	}
	if _, err := io.CopyN(w, filler('A'), o.junk); err != nil {
		return err
	}
	_, err := io.WriteString(w, `</t></is></c></row></sheetData></worksheet>`)
	return err
}

// sheetWorkbook returns a new workbook whose first sheet holds the header
// and the rows, as text cells.
func sheetWorkbook(header string, rows []string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, line := range append([]string{header}, rows...) {
		cells := strings.Split(line, ";")
		vals := make([]any, len(cells))
		for j, c := range cells {
			vals[j] = c
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return nil, err
		}
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			return nil, fmt.Errorf("sheet row %d: %w", i+1, err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, fmt.Errorf("write the workbook: %w", err)
	}
	return buf.Bytes(), nil
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// filler reads as an endless run of its byte.
type filler byte

func (f filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}
