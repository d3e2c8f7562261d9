package records

// Workbook bombs (issue 26 §5). An .xlsx is a zip: a 1 MB file may unzip
// to gigabytes. excelize's own limit is 16 GiB; it keeps every part in
// memory but the sheets and shared strings over UnzipXMLSizeLimit, which
// it extracts to temporary files; its extraction takes no context. So a
// workbook is opened here
//
//   - after a look at its zip directory (sizes as declared, which
//     archive/zip holds each member to): unzipped at most source.max_bytes
//     in all, and at most xlsxMemLimit in the parts kept in memory (a
//     1 GiB junk member took 3.1 GB RSS);
//   - with excelize's limits set from source.max_bytes, its temporary
//     files in a folder of its own, removed whenever the read ends (and
//     the folders of runs that were killed, at the next open);
//   - on a goroutine, so that a cancelled context (SIGTERM) ends the open
//     at once: the extraction goes on until it ends, into a removed
//     folder, and its file is closed then.

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/xuri/excelize/v2"
)

// The limits of a workbook's parts; tests make them small.
var (
	// xlsxXMLLimit: a sheet or the shared strings over this are extracted
	// to a temporary file rather than kept in memory.
	xlsxXMLLimit int64 = 16 << 20
	// xlsxMemLimit bounds the parts of a workbook kept in memory, together.
	xlsxMemLimit uint64 = 64 << 20
)

const (
	// xlsxDefaultMax is source.max_bytes when the config leaves it 0.
	xlsxDefaultMax = 4 << 30
	// xlsxTempPrefix names a workbook's temporary folder, with its pid.
	xlsxTempPrefix = "erpsync-xlsx-"
)

// extracting, when set (tests), is called as the extraction begins.
var extracting func()

// workbookLimits returns the unzipped size a workbook may have, and the
// size above which a sheet goes to a temporary file.
func (o Options) workbookLimits() (total, xml int64) {
	total = o.MaxBytes
	if total <= 0 {
		total = xlsxDefaultMax
	}
	return total, min(total, xlsxXMLLimit)
}

// openBounded opens a workbook within the limits, in a temporary folder
// of its own, which the caller removes (workbook.Close).
func openBounded(ctx context.Context, file string, o Options) (*excelize.File, string, error) {
	total, xml := o.workbookLimits()
	if err := checkWorkbookSizes(ctx, file, total, xml); err != nil {
		return nil, "", err
	}
	removeStaleTemp(os.TempDir())
	tmp, err := os.MkdirTemp("", xlsxTempPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, "", err
	}
	type opened struct {
		f   *excelize.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		if extracting != nil {
			extracting()
		}
		f, err := excelize.OpenFile(file, excelize.Options{UnzipSizeLimit: total, UnzipXMLSizeLimit: xml, TmpDir: tmp})
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			if o.f != nil {
				o.f.Close()
			}
			os.RemoveAll(tmp)
			return nil, "", o.err
		}
		return o.f, tmp, nil
	case <-ctx.Done():
		os.RemoveAll(tmp)
		go func() {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
			os.RemoveAll(tmp)
		}()
		return nil, "", ctx.Err()
	}
}

// streamed reports a part that excelize extracts to a temporary file when
// it is over the XML limit: a sheet or the shared strings.
func streamed(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, `\`, "/"))
	return strings.HasPrefix(n, "xl/worksheets/sheet") || n == "xl/sharedstrings.xml"
}

// checkWorkbookSizes refuses a workbook that unzips to more than total,
// or whose parts kept in memory add up to more than xlsxMemLimit, or
// whose large sheets or shared strings hold a run longer than
// xlsxRunLimit (checkRuns).
func checkWorkbookSizes(ctx context.Context, file string, total, xml int64) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return err
	}
	defer zr.Close()
	var all, inMemory uint64
	biggest, biggestSize := "", uint64(0)
	for _, f := range zr.File {
		size := f.UncompressedSize64
		all += size
		if all > uint64(total) {
			return fmt.Errorf("the workbook unzips to more than %d bytes, over source.max_bytes (%s is %d bytes unzipped)", total, f.Name, size)
		}
		if streamed(f.Name) && size > uint64(xml) {
			if err := checkRuns(ctx, f); err != nil {
				return err
			}
			continue
		}
		inMemory += size
		if size > biggestSize {
			biggest, biggestSize = f.Name, size
		}
	}
	if inMemory > xlsxMemLimit {
		return fmt.Errorf("the workbook's parts other than large sheets unzip to %d bytes, over the %d read into memory (%s is %d bytes): not a customer export",
			inMemory, xlsxMemLimit, biggest, biggestSize)
	}
	return nil
}

// xlsxRunLimit bounds a run of a large sheet's or the shared strings'
// XML between two tag marks ('<' or '>'): a cell's text, or one tag.
// excelize's parser holds a whole run in memory, several times over
// (a 1 MB workbook whose sheet was one 1 GiB cell took 3.1 GiB RSS; 1 GiB
// of zeros, 1.6 GiB), while no cell of an export may exceed
// hardFieldLimit. Escapes (&amp;) may make a cell's XML up to 6 times
// its text: the limit leaves room for that.
const xlsxRunLimit = 8 * hardFieldLimit

// checkRuns reads a part that excelize would extract and parse, once,
// streaming, and refuses it at the first run longer than xlsxRunLimit,
// naming the byte where that run starts: the parser never sees it. Its
// cost is one more inflate of the large parts; a cancelled context stops
// it.
func checkRuns(ctx context.Context, f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := make([]byte, 256<<10)
	run, read, start := 0, int64(0), int64(0) // start: the offset of the run's first byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := rc.Read(buf)
		for i, b := range buf[:n] {
			if b == '<' || b == '>' {
				run, start = 0, read+int64(i)+1
			} else if run++; run > xlsxRunLimit {
				return fmt.Errorf("%s holds a run of more than %d bytes without a tag, starting at byte %d: a cell or tag larger than any export's, not a customer export",
					f.Name, xlsxRunLimit, start)
			}
		}
		read += int64(n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
	}
}

// removeStaleTemp removes the temporary folders of workbooks whose process
// is gone (a killed run): erpsync-xlsx-<pid>-*.
func removeStaleTemp(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, xlsxTempPrefix+"*"))
	for _, m := range matches {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(m), xlsxTempPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.RemoveAll(m)
	}
}

// processAlive reports whether a process of this pid exists (signal 0).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
