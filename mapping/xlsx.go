package mapping

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// workbook reads one sheet of an .xlsx with excelize's streaming row
// reader, twice in step: the raw values (numbers unrounded, dates as
// serial numbers) and the text Excel shows (a reference 000123 keeps its
// zeros). A record's line is its row on the sheet.
type workbook struct {
	f          *excelize.File
	raw, shown *excelize.Rows
	line       int
	width      int // the header's cells: a row's missing trailing cells are empty
	date1904   bool
	dateLayout string // date_format: a date cell is written so that the mapping reads it back
	decimal    string
}

// openWorkbook opens source.sheet, or the first sheet.
func (m *Mapping) openWorkbook(file string) (*Reader, error) {
	f, err := excelize.OpenFile(file)
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	w := &workbook{f: f, dateLayout: m.cfg.DateFormat, decimal: m.cfg.Decimal}
	sheet, err := pickSheet(f, m.cfg.Sheet)
	if err == nil {
		w.raw, err = f.Rows(sheet)
	}
	if err == nil {
		w.shown, err = f.Rows(sheet)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		w.date1904 = *props.Date1904
	}
	return &Reader{Encoding: "xlsx", Delimiter: ',', Sheet: sheet, rows: w.next, closer: w}, nil
}

func pickSheet(f *excelize.File, name string) (string, error) {
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return "", errors.New("the workbook has no sheet")
	}
	if name == "" {
		return sheets[0], nil
	}
	for _, s := range sheets {
		if s == name {
			return s, nil
		}
	}
	return "", fmt.Errorf("sheet %q is not in the workbook (it has %s)", name, quoteList(sheets))
}

// next returns the next row that holds anything; blank rows are skipped
// as blank CSV lines are.
func (w *workbook) next() (Record, error) {
	for w.raw.Next() {
		w.shown.Next()
		w.line++
		raws, err := w.raw.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return Record{Line: w.line, Err: err}, nil
		}
		shown, err := w.shown.Columns()
		if err != nil {
			return Record{Line: w.line, Err: err}, nil
		}
		cells := make([]string, len(raws))
		blank := true
		for i, raw := range raws {
			s := raw
			if i < len(shown) {
				s = shown[i]
			}
			cells[i] = w.cell(raw, s)
			blank = blank && strings.TrimSpace(cells[i]) == ""
		}
		if !blank {
			return Record{Line: w.line, Fields: w.fit(cells)}, nil
		}
	}
	if err := w.raw.Error(); err != nil {
		return Record{}, fmt.Errorf("xlsx: %w", err)
	}
	return Record{}, io.EOF
}

// fit gives a row the header's width: Excel writes no cell for an empty
// one, so the trailing empty cells of a row are missing, and an empty
// cell after the header's last may be there (a formatted one). The
// first row, the header, sets the width; a row with more cells than the
// header, not empty, keeps them (a row error).
func (w *workbook) fit(cells []string) []string {
	if w.width == 0 {
		w.width = len(cells)
		return cells
	}
	for len(cells) > w.width && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	for len(cells) < w.width {
		cells = append(cells, "")
	}
	return cells
}

// cell is the text of a cell for the mapping: text as it is; a date cell
// as a date in date_format; a number unrounded with the configured
// decimal mark, unless Excel shows it zero-padded (000123).
func (w *workbook) cell(raw, shown string) string {
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || raw == "" {
		return raw // text, or an error such as #N/A
	}
	switch {
	case shown == raw:
	case dateShape.MatchString(shown):
		if t, err := excelize.ExcelDateToTime(v, w.date1904); err == nil {
			return t.Format(w.dateLayout)
		}
	case isDigits(shown) && len(shown) > 1 && shown[0] == '0':
		return shown // a reference Excel shows with its zeros
	}
	n := strconv.FormatFloat(v, 'f', -1, 64)
	if shown == raw {
		n = raw // as written: a text cell "1.50" stays so
	}
	if w.decimal == "," {
		n = strings.Replace(n, ".", ",", 1)
	}
	return n
}

// dateShape is what a date looks like as Excel shows it: 2026-03-01,
// 01/03/2026, 3.1.26, 1-Mar-26, Mar 1, 2026, with an optional time.
var dateShape = regexp.MustCompile(`^(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}[-/ ][A-Za-z]{3,9}([-/ ]\d{2,4})?|[A-Za-z]{3,9}[-/ ]\d{1,4}(,? \d{2,4})?)([ T]\d{1,2}:\d{2}.*)?$`)

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Close closes the row readers and the workbook (and its temporary files).
func (w *workbook) Close() error {
	if w.raw != nil {
		w.raw.Close()
	}
	if w.shown != nil {
		w.shown.Close()
	}
	return w.f.Close()
}
