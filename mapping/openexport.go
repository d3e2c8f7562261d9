package mapping

import (
	"context"
	"errors"
	"fmt"

	"erpsync/mapping/records"
)

// MaxField is the largest cell a row may hold.
const MaxField = records.MaxField

// Excerpt returns s quoted, as %q does, cut to its first 40 bytes when
// longer, the rest counted: an error never quotes a whole cell
// (mapping/records says what an error may show of an export).
func Excerpt(s string) string { return records.Excerpt(s) }

// openExport opens an export of any format as a Reader of records
// (mapping/records: containers, encodings, delimiters, workbooks).
func (m *Mapping) openExport(ctx context.Context, path string) (*records.Reader, error) {
	return records.Open(ctx, path, records.Options{
		Encoding: m.cfg.Encoding, Delimiter: m.cfg.Delimiter, ZipMember: m.cfg.ZipMember,
		Sheet: m.cfg.Sheet, MaxBytes: m.cfg.MaxBytes, DateFormat: m.cfg.DateFormat, Decimal: m.cfg.Decimal,
	})
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

// fileError is err as the *FileError of path, with the line an
// *EncodingError or a *FieldTooLongError names.
func fileError(path string, err error) *FileError {
	fe := &FileError{File: path, Err: err}
	var ee *records.EncodingError
	var fl *records.FieldTooLongError
	var we *records.WrongEncodingError
	switch {
	case errors.As(err, &ee):
		fe.Line = ee.Line
	case errors.As(err, &we):
		fe.Line = we.Line
	case errors.As(err, &fl):
		fe.Line = fl.Line
	}
	return fe
}

// notAHeaderError is the error of a first line with none of the mapped
// columns: most likely the export has no header line and this is a
// customer, whose cells are not quoted.
func notAHeaderError(missing string, fields int) error {
	return fmt.Errorf("the header lacks the column %s; the first line does not look like a header: %d fields, none of them a mapped column (does the export start with its header line? map columns in source.columns)",
		missing, fields)
}
