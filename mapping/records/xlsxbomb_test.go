package records_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"erpsync/mapping"
	"erpsync/mapping/records"
)

// member is a part written into a generated workbook: size bytes from
// write, deflated (a bomb is small on disk).
type member struct {
	name  string
	write func(w io.Writer) error
}

// zeros writes n zero bytes.
func zeros(n int64) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.CopyN(w, zeroReader{}, n)
		return err
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// sheetXML writes a worksheet of a header and rows made by row(i).
func sheetXML(header []string, rows int, row func(i int) string) func(io.Writer) error {
	return func(w io.Writer) error {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`)
		for i, h := range header {
			cell, _ := excelize.CoordinatesToCellName(i+1, 1)
			fmt.Fprintf(&b, `<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, cell, h)
		}
		b.WriteString(`</row>`)
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		for i := range rows {
			if _, err := fmt.Fprintf(w, `<row r="%d">%s</row>`, i+2, row(i+2)); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, `</sheetData></worksheet>`)
		return err
	}
}

// inline is an inline text cell.
func inline(ref, text string) string {
	return fmt.Sprintf(`<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, ref, text)
}

// bombWorkbook writes an .xlsx: excelize's parts of a new workbook, its
// sheet1 replaced by sheet when given, and the extra members.
func bombWorkbook(t *testing.T, path string, sheet func(io.Writer) error, extra ...member) string {
	t.Helper()
	f := excelize.NewFile()
	var base bytes.Buffer
	if err := f.Write(&base); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zr, err := zip.NewReader(bytes.NewReader(base.Bytes()), int64(base.Len()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, m := range zr.File {
		if m.Name == "xl/worksheets/sheet1.xml" && sheet != nil {
			continue
		}
		if err := zw.Copy(m); err != nil {
			t.Fatal(err)
		}
	}
	if sheet != nil {
		extra = append([]member{{"xl/worksheets/sheet1.xml", sheet}}, extra...)
	}
	for _, m := range extra {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.write(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// plainRows is a sheet of customers R<i>, "Name <i>".
func plainRows(n int) func(io.Writer) error {
	return sheetXML([]string{"reference", "name"}, n, func(i int) string {
		return inline("A"+strconv.Itoa(i), "R"+strconv.Itoa(i)) + inline("B"+strconv.Itoa(i), "Name "+strconv.Itoa(i))
	})
}

func bombMapping(t *testing.T, maxBytes int64) *mapping.Mapping {
	t.Helper()
	cfg := mapping.DefaultConfig()
	cfg.Columns = mapping.ColumnMap{"reference": "reference", "name": "name"}
	if maxBytes > 0 {
		cfg.MaxBytes = maxBytes
	}
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tempLeft lists what the workbook reads left in dir (TMPDIR).
func tempLeft(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	return left
}

// countRows reads path and counts its customers and row errors.
func countRows(ctx context.Context, m *mapping.Mapping, path string) (customers, rowErrs int, first string, err error) {
	_, err = m.Read(ctx, path, func(r mapping.Row) error {
		if r.Err != nil {
			if rowErrs == 0 {
				first = r.Err.Error()
			}
			rowErrs++
		} else {
			customers++
		}
		return nil
	})
	return customers, rowErrs, first, err
}

// small lowers the workbook limits for a test.
func small(t *testing.T, xml int64, mem uint64) {
	t.Cleanup(records.SetWorkbookLimits(xml, mem))
}

// TestWorkbook_Bombs: a small workbook that unzips to more than
// source.max_bytes, or whose parts kept in memory are too large (a 1 MB
// file with a 1 GiB junk member took 3.1 GB RSS and the run succeeded),
// is an unusable file, refused before anything is extracted; it leaves
// nothing in TMPDIR.
func TestWorkbook_Bombs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	small(t, 16<<10, 1<<20)
	for _, tc := range []struct {
		name     string
		maxBytes int64
		sheet    func(io.Writer) error
		extra    []member
		says     string
	}{
		{"junk member over max_bytes", 2 << 20, plainRows(3), []member{{"xl/media/junk.bin", zeros(4 << 20)}},
			"the workbook unzips to more than 2097152 bytes, over source.max_bytes (xl/media/junk.bin"},
		{"sheet over max_bytes", 2 << 20, zeros(4 << 20), nil, "over source.max_bytes (xl/worksheets/sheet1.xml"},
		{"junk member kept in memory", 0, plainRows(3), []member{{"xl/media/junk.bin", zeros(2 << 20)}},
			"over the 1048576 read into memory (xl/media/junk.bin is 2097152 bytes)"},
		{"many sheets under the XML limit", 0, plainRows(3), manySheets(80, 15<<10), "read into memory"},
		// A part that is parsed, not kept: a run the parser would hold whole
		// (a 1 GiB cell took 3.1 GiB RSS, 1 GiB of zeros 1.6 GiB).
		{"a sheet of one huge cell", 0, hugeCell(records.XLSXRunLimit + 1), nil,
			"xl/worksheets/sheet1.xml holds a run of more than 16777216 bytes without a tag"},
		{"a sheet of zeros", 0, zeros(records.XLSXRunLimit + 1), nil, "sheet1.xml holds a run of more than"},
		{"shared strings of zeros", 0, plainRows(3), []member{{"xl/sharedStrings.xml", zeros(records.XLSXRunLimit + 1)}},
			"xl/sharedStrings.xml holds a run of more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := bombWorkbook(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".xlsx"), tc.sheet, tc.extra...)
			if st, _ := os.Stat(path); st.Size() > 64<<10 {
				t.Fatalf("the bomb is %d bytes on disk", st.Size())
			}
			_, _, _, err := countRows(context.Background(), bombMapping(t, tc.maxBytes), path)
			var fe *mapping.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("err = %v, want a file error saying %q", err, tc.says)
			}
			if left := tempLeft(t, tmp); len(left) > 0 {
				t.Errorf("TMPDIR holds %v", left)
			}
		})
	}
}

// hugeCell is a sheet whose header's first cell is n bytes of text.
func hugeCell(n int) func(io.Writer) error {
	return func(w io.Writer) error {
		if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`+
			`<c r="A1" t="inlineStr"><is><t>`); err != nil {
			return err
		}
		if _, err := io.CopyN(w, xReader{}, int64(n)); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></is></c></row></sheetData></worksheet>`)
		return err
	}
}

type xReader struct{}

func (xReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// manySheets is n sheets of size bytes each, each under the XML limit.
func manySheets(n int, size int64) []member {
	var out []member
	for i := range n {
		out = append(out, member{fmt.Sprintf("xl/worksheets/sheet%d.xml", i+10), zeros(size)})
	}
	return out
}

// TestWorkbook_TempFiles: a sheet over the XML limit is extracted into a
// temporary folder of the workbook's own, which is removed when the read
// ends, whether it went through or stopped; the folders that killed runs
// left are removed at the next open.
func TestWorkbook_TempFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	small(t, 64<<10, 256<<20)
	gone := exec.Command(os.Args[0], "-test.run=^$") // a process that has ended: its pid is no one's
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(tmp, fmt.Sprintf("%s%d-killed", records.XLSXTempPrefix, gone.Process.Pid))
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "excelize-1"), []byte("left by a killed run"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := bombWorkbook(t, filepath.Join(t.TempDir(), "big.xlsx"), plainRows(1500))
	m := bombMapping(t, 0)
	var during []string
	_, err := m.Read(context.Background(), path, func(r mapping.Row) error {
		if during == nil {
			during, _ = filepath.Glob(filepath.Join(tmp, records.XLSXTempPrefix+"*", "excelize-*"))
		}
		return nil
	})
	if err != nil || len(during) != 1 || strings.Contains(during[0], "killed") {
		t.Fatalf("err %v; temporary files while reading: %v, want the sheet's, alone", err, during)
	}
	if left := tempLeft(t, tmp); len(left) > 0 {
		t.Errorf("after the read TMPDIR holds %v", left)
	}
	stop := errors.New("stop")
	if _, err := m.Read(context.Background(), path, func(mapping.Row) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("err %v, want the callback's", err)
	}
	if left := tempLeft(t, tmp); len(left) > 0 {
		t.Errorf("after a stopped read TMPDIR holds %v", left)
	}
}

// TestWorkbook_CancelWhileExtracting: a cancelled context (SIGTERM) ends
// the read while the workbook is being extracted (excelize's extraction
// takes no context): the error is the context's (an interrupted run, not
// an unusable export), and the temporary folder goes, also once the
// extraction has ended in the background.
func TestWorkbook_CancelWhileExtracting(t *testing.T) {
	for name, read := range map[string]func(*mapping.Mapping, context.Context, string) error{
		"read": func(m *mapping.Mapping, ctx context.Context, path string) error {
			_, err := m.Read(ctx, path, func(mapping.Row) error { return nil })
			return err
		},
		"check": func(m *mapping.Mapping, ctx context.Context, path string) error {
			_, err := m.CheckContext(ctx, path)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { cancelWhileExtracting(t, read) })
	}
}

func cancelWhileExtracting(t *testing.T, read func(*mapping.Mapping, context.Context, string) error) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	small(t, 16<<10, 256<<20)
	path := bombWorkbook(t, filepath.Join(t.TempDir(), "big.xlsx"), plainRows(500))
	ctx, cancel := context.WithCancel(context.Background())
	returned, ended := make(chan struct{}), make(chan struct{})
	t.Cleanup(records.SetExtracting(func() {
		cancel()
		<-returned // the read answers before the extraction has even begun
	}))
	var err error
	go func() {
		defer close(ended)
		err = read(bombMapping(t, 0), ctx, path)
	}()
	<-ended
	close(returned)
	var fe *mapping.FileError
	if !errors.Is(err, context.Canceled) || errors.As(err, &fe) {
		t.Fatalf("err = %v, want context.Canceled, not a file error", err)
	}
	for i := 0; len(tempLeft(t, tmp)) > 0; i++ { // the extraction ends in the background, then its folder goes
		if i == 1_000_000 {
			t.Fatalf("TMPDIR still holds %v", tempLeft(t, tmp))
		}
		runtime.Gosched()
	}
}

// TestWorkbook_WideRows: a cell in column XFD on every row (20,000 rows
// took 365 s of CPU) costs the mapping the mapped cells only: past the
// header a value is only noticed (the row's error), and only the mapped
// cells are converted.
func TestWorkbook_WideRows(t *testing.T) {
	const rows = 20
	path := bombWorkbook(t, filepath.Join(t.TempDir(), "wide.xlsx"), sheetXML([]string{"reference", "name", "phone"}, rows, func(i int) string {
		n := strconv.Itoa(i)
		return inline("A"+n, "R"+n) + `<c r="B` + n + `"><v>` + n + `</v></c>` + `<c r="C` + n + `"><v>0612</v></c>` + inline("XFD"+n, "x")
	}))
	m := bombMapping(t, 0)
	r, err := records.OpenWorkbook(context.Background(), path, records.Options{DateFormat: "2006-01-02", Decimal: "."})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	r.MapColumns([]int{0, 1})
	n := 0
	for ; ; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Fields) != 3 || rec.Err == nil || rec.Err.Error() != "16384 fields where the header has 3" || rec.Fields[0] != "R"+strconv.Itoa(rec.Line) {
			t.Fatalf("line %d: %d fields %.40q, err %v", rec.Line, len(rec.Fields), rec.Fields, rec.Err)
		}
	}
	if n != rows || records.Converted(r) > 3+rows*2 {
		t.Errorf("%d rows, %d cells converted: want %d rows, at most %d cells", n, records.Converted(r), rows, 3+rows*2)
	}
	// Through the mapping: each row an error naming its reference.
	_, rowErrs, first, err := countRows(context.Background(), m, path)
	if err != nil || rowErrs != rows || first != "wide.xlsx Sheet1!2: 16384 fields where the header has 3" {
		t.Errorf("%d row errors, first %q, err %v", rowErrs, first, err)
	}
}
