package mapping

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// An export's format follows its extension and is confirmed by its first
// bytes: .gz is read as a stream, .zip holds one export, .xlsx is a
// workbook (xlsx.go); anything else is CSV.
const (
	formatCSV  = "csv"
	formatGzip = "gzip"
	formatZip  = "zip"
	formatXLSX = "xlsx"
)

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZip  = []byte("PK\x03\x04")
)

// formatOf names a file's format by its extension.
func formatOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".gz":
		return formatGzip
	case ".zip":
		return formatZip
	case ".xlsx", ".xlsm":
		return formatXLSX
	}
	return formatCSV
}

// sniffFormat names a format by the first bytes of the content.
func sniffFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return formatGzip
	case bytes.HasPrefix(head, magicZip):
		return formatZip // a workbook is a zip too
	}
	return formatCSV
}

// checkFormat confirms that a file's content is what its extension says.
func checkFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	byName, byContent := formatOf(path), sniffFormat(head[:n])
	if byName == formatXLSX && byContent == formatZip {
		return formatXLSX, nil
	}
	if byName != byContent {
		return "", fmt.Errorf("the name says %s but the content is %s: rename the file or fix the export", describeFormat(byName), describeFormat(byContent))
	}
	return byName, nil
}

func describeFormat(f string) string {
	switch f {
	case formatGzip:
		return "gzip (.gz)"
	case formatZip:
		return "zip (.zip or .xlsx)"
	case formatXLSX:
		return "an Excel workbook (.xlsx)"
	}
	return "text (CSV)"
}

// openExport opens an export of any format as a Reader of records.
func (m *Mapping) openExport(ctx context.Context, path string) (*Reader, error) {
	format, err := checkFormat(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case formatGzip:
		return newReader(func() (io.ReadCloser, error) { return openGzip(path) }, m.cfg.Encoding, m.cfg.Delimiter)
	case formatZip:
		member, err := zipMember(path, m.cfg.ZipMember)
		if err != nil {
			return nil, err
		}
		if formatOf(member) != formatCSV {
			return nil, fmt.Errorf("zip member %s: want a CSV export inside the zip, not %s", member, describeFormat(formatOf(member)))
		}
		return newReader(func() (io.ReadCloser, error) { return openZipMember(path, member) }, m.cfg.Encoding, m.cfg.Delimiter)
	case formatXLSX:
		return m.openWorkbook(ctx, path)
	}
	return OpenReader(path, m.cfg.Encoding, m.cfg.Delimiter)
}

// openGzip streams a .gz file's content.
func openGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return &gzipFile{Reader: zr, f: f}, nil
}

// gzipFile reports a cut or corrupt stream at its end as an error: a
// truncated .gz is never read as a shorter export.
type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Read(p []byte) (int, error) {
	n, err := g.Reader.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}

func (g *gzipFile) Close() error {
	g.Reader.Close()
	return g.f.Close()
}

// zipMember picks the export inside a zip: the one named, or the only one.
func zipMember(file, name string) (string, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return "", fmt.Errorf("zip: %w", err)
	}
	defer zr.Close()
	var members []string
	for _, f := range zr.File {
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		if name != "" && (f.Name == name || base == name) {
			return f.Name, nil
		}
		members = append(members, f.Name)
	}
	slices.Sort(members) // the message lists them in one order, whatever the zip's
	switch {
	case name != "":
		return "", fmt.Errorf("zip_member %q is not in the zip (it holds %s)", name, quoteList(members))
	case len(members) == 0:
		return "", errors.New("the zip holds no file")
	case len(members) > 1:
		return "", fmt.Errorf("the zip holds %d files (%s): name the export with source.zip_member", len(members), quoteList(members))
	}
	return members[0], nil
}

// openZipMember streams one member of a zip.
func openZipMember(file, member string) (io.ReadCloser, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	rc, err := zr.Open(member)
	if err != nil {
		zr.Close()
		return nil, fmt.Errorf("zip member %s: %w", member, err)
	}
	return &zipFile{ReadCloser: rc, zr: zr}, nil
}

type zipFile struct {
	io.ReadCloser
	zr *zip.ReadCloser
}

func (z *zipFile) Close() error {
	z.ReadCloser.Close()
	return z.zr.Close()
}

// onSheet marks a workbook's row errors with their sheet.
func onSheet(sheet string, fn func(Row) error) func(Row) error {
	return func(row Row) error {
		if row.Err != nil {
			row.Err.Sheet = sheet
		}
		return fn(row)
	}
}

// sheetError marks a workbook's file error with its sheet.
func sheetError(sheet string, err error) {
	var fe *FileError
	if errors.As(err, &fe) && fe.Sheet == "" {
		fe.Sheet = sheet
	}
}
