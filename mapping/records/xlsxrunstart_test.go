package records_test

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"erpsync/mapping/records"
)

// TestWorkbook_RunStartNamed: a sheet refused for a run without a tag
// names the byte where that run starts, not where the read had got to
// (the end of a 256 KiB buffer), so that whoever opens the part finds it.
func TestWorkbook_RunStartNamed(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	small(t, 16<<10, 1<<20)
	prefix := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		strings.Repeat(`<row r="1"><c r="A1"><v>1</v></c></row>`, 10_000) + // 390 KB of short runs: past the first buffer
		`<row r="2"><c r="A2" t="inlineStr"><is><t>`
	sheet := func(w io.Writer) error {
		if _, err := io.WriteString(w, prefix); err != nil {
			return err
		}
		if _, err := io.CopyN(w, xReader{}, int64(2*records.XLSXRunLimit)); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></is></c></row></sheetData></worksheet>`)
		return err
	}
	path := bombWorkbook(t, filepath.Join(t.TempDir(), "run.xlsx"), sheet)
	_, _, _, err := countRows(context.Background(), bombMapping(t, 0), path)
	want := "starting at byte " + strconv.Itoa(len(prefix))
	if err == nil || !strings.Contains(err.Error(), "holds a run of more than") || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want the run's start named (%q)", err, want)
	}
}
