package records

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
	"syscall"
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

// errLink is an export that is a symbolic link: whoever writes to the
// inbox could point it at /proc/self/environ or a key file, and the run
// would read (and quote) erpsync's own secrets.
var errLink = errors.New("it is a symbolic link: an export is read from a regular file only, never through a link")

// errNotRegular is an export that is a named pipe, a device or a folder:
// a pipe swapped in after the listing would hold the read for ever.
var errNotRegular = errors.New("it is not a regular file (a named pipe, a device or a folder): an export is read from a regular file only")

// openFile opens an export for reading, never through a symbolic link
// (O_NOFOLLOW: a link swapped in after the listing is refused too), and
// only a regular file (O_NONBLOCK, so that opening a named pipe swapped
// in does not wait for a writer; the kernel ignores it for a file).
func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errLink
	}
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, err
		}
		return nil, errNotRegular
	}
	return f, nil
}

// checkFormat confirms that a file's content is what its extension says.
func checkFormat(path string) (string, error) {
	f, err := openFile(path)
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

// Options are the settings of source: that decide how an export's file
// is read as records.
type Options struct {
	Encoding  string // utf-8, windows-1252, iso-8859-1, utf-16 or auto
	Delimiter string // one character, \t or auto
	ZipMember string // the export inside a .zip: "" for its only file
	Sheet     string // a workbook's sheet: "" for its first
	MaxBytes  int64  // the export's bound, decompressed: 0 for 4 GiB
	// How a workbook's date and number cells are written as text, so that
	// the mapping reads them back (xlsx.go).
	DateFormat, Decimal string
}

// Open opens an export of any format (CSV, .gz, .zip or .xlsx) as a
// Reader of records; ctx ends a workbook's extraction.
func Open(ctx context.Context, path string, o Options) (*Reader, error) {
	format, err := checkFormat(path)
	if err != nil {
		return nil, err
	}
	limit := o.exportLimit()
	switch format {
	case formatGzip:
		return newReader(capped(func() (io.ReadCloser, error) { return openGzip(path) }, limit, " decompressed"), o.Encoding, o.Delimiter)
	case formatZip:
		member, err := zipMember(path, o.ZipMember)
		if err != nil {
			return nil, err
		}
		if formatOf(member) != formatCSV {
			return nil, fmt.Errorf("zip member %s: want a CSV export inside the zip, not %s", member, describeFormat(formatOf(member)))
		}
		return newReader(capped(func() (io.ReadCloser, error) { return openZipMember(path, member) }, limit, " decompressed"), o.Encoding, o.Delimiter)
	case formatXLSX:
		return openWorkbook(ctx, path, o)
	}
	return newReader(capped(func() (io.ReadCloser, error) { return openFile(path) }, limit, ""), o.Encoding, o.Delimiter)
}

// defaultExportMax is source.max_bytes when unset: 4 GiB, as read.
const defaultExportMax = 4 << 30

// exportLimit is source.max_bytes, or its default.
func (o Options) exportLimit() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return defaultExportMax
}

// capped wraps an export's opener so that its stream fails past max
// bytes (decompressed for .gz and .zip): a small archive that expands
// without end, or a file that never ends, stops the run (exit 2).
func capped(open func() (io.ReadCloser, error), max int64, what string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		return &cappedReader{ReadCloser: rc, left: max, max: max, what: what}, nil
	}
}

type cappedReader struct {
	io.ReadCloser
	left, max int64
	what      string
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 { // one byte more tells a file of exactly max from a longer one
		var one [1]byte
		if n, err := c.ReadCloser.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("the export is larger than source.max_bytes (%d bytes%s): raise it if such an export is expected", c.max, c.what)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= int64(n)
	return n, err
}

// openGzip streams a .gz file's content.
func openGzip(path string) (io.ReadCloser, error) {
	f, err := openFile(path)
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
// A zip that holds one name twice is refused: Go reads the first, unzip
// and Python the last, so no reading of it can be trusted.
func zipMember(file, name string) (string, error) {
	zr, err := openZip(file)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	seen := make(map[string]bool, len(zr.File))
	var members, picked []string
	for _, f := range zr.File {
		key := strings.TrimPrefix(path.Clean("/"+f.Name), "/")
		if seen[key] {
			return "", fmt.Errorf("the zip holds %s twice: tools disagree on which one they read, so erpsync reads neither", clip(f.Name))
		}
		seen[key] = true
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		if name != "" && (f.Name == name || base == name) {
			picked = append(picked, f.Name)
		}
		members = append(members, f.Name)
	}
	slices.Sort(members) // the message lists them in one order, whatever the zip's
	slices.Sort(picked)
	switch {
	case len(picked) == 1:
		return picked[0], nil
	case len(picked) > 1:
		return "", fmt.Errorf("zip_member %q names %d members (%s): give its path in the zip", name, len(picked), memberList(picked))
	case name != "":
		return "", fmt.Errorf("zip_member %q is not in the zip (it holds %s)", name, memberList(members))
	case len(members) == 0:
		return "", errors.New("the zip holds no file")
	case len(members) > 1:
		return "", fmt.Errorf("the zip holds %d files (%s): name the export with source.zip_member", len(members), memberList(members))
	}
	return members[0], nil
}

// memberList quotes the first members of a zip for a message: a zip's
// names are the sender's, so their number and length are bounded here.
func memberList(members []string) string {
	const most = 10
	quoted := make([]string, 0, most)
	for _, m := range members[:min(len(members), most)] {
		quoted = append(quoted, clip(m))
	}
	s := strings.Join(quoted, ", ")
	if len(members) > most {
		s += fmt.Sprintf(" and %d more", len(members)-most)
	}
	return s
}

// clip quotes a name, cut to 100 bytes.
func clip(name string) string {
	if len(name) > 100 {
		return fmt.Sprintf("%q…", strings.ToValidUTF8(name[:100], ""))
	}
	return fmt.Sprintf("%q", name)
}

// openZipMember streams one member of a zip.
func openZipMember(file, member string) (io.ReadCloser, error) {
	zr, err := openZip(file)
	if err != nil {
		return nil, err
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
	zr *zipArchive
}

// zipArchive is a zip opened with openFile (never through a link).
type zipArchive struct {
	*zip.Reader
	f *os.File
}

func openZip(file string) (*zipArchive, error) {
	f, err := openFile(file)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("zip: %w", err)
	}
	return &zipArchive{Reader: zr, f: f}, nil
}

func (z *zipArchive) Close() error { return z.f.Close() }

func (z *zipFile) Close() error {
	z.ReadCloser.Close()
	return z.zr.Close()
}
