package records

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	ctx        context.Context
	f          *excelize.File
	raw, shown *excelize.Rows
	tmp        string // the workbook's own temporary folder (xlsxbomb.go)
	line       int
	width      int    // the header's cells: a row's missing trailing cells are empty
	mapped     []bool // by cell: read as the mapping reads it; nil: every cell
	converted  int    // cells read as the mapping reads them (tests: the cost of wide rows)
	date1904   bool
	dateLayout string // date_format: a date cell is written so that the mapping reads it back
	decimal    string
}

// openWorkbook opens source.sheet, or the first sheet, within the limits
// of source.max_bytes (xlsxbomb.go); ctx ends the extraction.
func openWorkbook(ctx context.Context, file string, o Options) (*Reader, error) {
	f, tmp, err := openBounded(ctx, file, o)
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	w := &workbook{ctx: ctx, f: f, tmp: tmp, dateLayout: o.DateFormat, decimal: o.Decimal}
	sheet, err := pickSheet(f, o.Sheet)
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
	return &Reader{Encoding: "xlsx", Delimiter: ',', Sheet: sheet, rows: w.next, closer: w, workbook: w}, nil
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
	return "", fmt.Errorf("sheet %q is not in the workbook (it has %s)", name, QuoteList(sheets))
}

// next returns the next row that holds anything; blank rows are skipped
// as blank CSV lines are. A row's cost is bounded by the header's width
// and the mapped columns: past the header only the presence of a value
// is looked at, and only mapped cells are converted (cell).
func (w *workbook) next() (Record, error) {
	for w.raw.Next() {
		if err := w.ctx.Err(); err != nil {
			return Record{}, err
		}
		w.shown.Next()
		w.line++
		raws, err := w.raw.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return Record{Line: w.line, Err: err}, nil
		}
		var shown []string
		if w.needShown(raws) { // else the row's text as Excel shows it is not read at all
			if shown, err = w.shown.Columns(); err != nil {
				return Record{Line: w.line, Err: err}, nil
			}
		}
		if rec, ok := w.record(raws, shown); ok {
			return rec, nil
		}
	}
	if err := w.raw.Error(); err != nil {
		return Record{}, fmt.Errorf("xlsx: %w", err)
	}
	return Record{}, io.EOF
}

// record makes a row's record; ok is false for a blank row.
func (w *workbook) record(raws, shown []string) (Record, bool) {
	n := len(raws)
	if w.width > 0 {
		for n > w.width && strings.TrimSpace(raws[n-1]) == "" {
			n--
		}
		if n > w.width { // a value past the header: a row error, its cells not kept
			cells := w.convert(raws[:w.width], shown)
			return Record{Line: w.line, Fields: cells, Err: fmt.Errorf("%d fields where the header has %d", n, w.width)}, true
		}
	}
	cells := w.convert(raws[:n], shown)
	if w.width == 0 && totalLen(cells) > MaxField {
		return Record{Line: w.line, Err: fmt.Errorf("a header of more than %d bytes: not a customer export (the header is bounded like a field)", MaxField)}, true
	}
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return Record{Line: w.line, Fields: w.fit(cells)}, true
		}
	}
	return Record{}, false
}

func totalLen(cells []string) int {
	n := 0
	for _, c := range cells {
		n += len(c)
	}
	return n
}

// needShown reports whether a cell that convert reads holds a number:
// only then does the text Excel shows matter (cell).
func (w *workbook) needShown(raws []string) bool {
	n := len(raws)
	if w.width > 0 {
		n = min(n, w.width)
	}
	for i, raw := range raws[:n] {
		if raw != "" && isNumberStart(raw[0]) && (w.mapped == nil || i < len(w.mapped) && w.mapped[i]) {
			return true
		}
	}
	return false
}

// convert reads the cells the mapping maps as it reads them (cell); the
// others as they are.
func (w *workbook) convert(raws, shown []string) []string {
	cells := make([]string, len(raws))
	for i, raw := range raws {
		if raw == "" || w.mapped != nil && (i >= len(w.mapped) || !w.mapped[i]) {
			cells[i] = raw
			continue
		}
		s := raw
		if i < len(shown) {
			s = shown[i]
		}
		cells[i] = w.cell(raw, s)
		w.converted++
	}
	return cells
}

// fit gives a row the header's width: Excel writes no cell for an empty
// one, so the trailing empty cells of a row are missing (record drops
// the empty cells past the header's last: formatted ones). The first
// row, the header, sets the width.
func (w *workbook) fit(cells []string) []string {
	if w.width == 0 {
		w.width = len(cells)
		return cells
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
	if raw == "" || !isNumberStart(raw[0]) {
		return raw // text, or an error such as #N/A
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return raw
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

// isNumberStart reports a byte a raw number cell may begin with:
// ParseFloat's error is not made for every text cell.
func isNumberStart(c byte) bool { return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' }

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Close closes the row readers and the workbook, and removes its
// temporary folder.
func (w *workbook) Close() error {
	if w.raw != nil {
		w.raw.Close()
	}
	if w.shown != nil {
		w.shown.Close()
	}
	err := w.f.Close()
	if rerr := os.RemoveAll(w.tmp); err == nil {
		err = rerr
	}
	return err
}

// mapColumns tells the workbook which cells the mapping reads: the others
// are passed on as they are, not converted.
func (w *workbook) mapColumns(cols []int) {
	w.mapped = make([]bool, w.width)
	for _, i := range cols {
		if i >= 0 && i < len(w.mapped) {
			w.mapped[i] = true
		}
	}
}
