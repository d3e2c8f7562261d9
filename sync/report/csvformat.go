package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"unicode/utf8"
)

// CSV is how the CSV files erpsync writes for people are written
// (reports.csv): BOM starts them with the UTF-8 byte order mark, and
// Delimiter separates their cells (0: ","). A European Excel opens
// {BOM: true, Delimiter: ';'} right; the zero CSV is erpsync's format
// of old.
type CSV struct {
	BOM       bool
	Delimiter rune
}

// bom is the UTF-8 byte order mark.
const bom = "\ufeff"

// Comma is the delimiter of the cells.
func (c CSV) Comma() rune {
	if c.Delimiter == 0 {
		return ','
	}
	return c.Delimiter
}

// NewWriter returns a csv.Writer to w of this format, the byte order mark
// written first when BOM is set.
func (c CSV) NewWriter(w io.Writer) (*csv.Writer, error) {
	if c.BOM {
		if _, err := io.WriteString(w, bom); err != nil {
			return nil, err
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma = c.Comma()
	return cw, nil
}

// ParseDelimiter reads reports.csv.delimiter: "," (also ""), ";", a tab
// or "|".
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case "", ",":
		return ',', nil
	case ";", "\t", "|":
		r, _ := utf8.DecodeRuneInString(s)
		return r, nil
	}
	return 0, fmt.Errorf("reports.csv.delimiter %q: want \",\", \";\", \"\\t\" or \"|\"", s)
}

// CSVSettings is reports.csv as the config writes it: {bom: true,
// delimiter: ";"} for a European Excel; the zero value is erpsync's
// format of old.
type CSVSettings struct {
	BOM       bool   `yaml:"bom"`
	Delimiter string `yaml:"delimiter"`
}

// Format returns the CSV of the settings, or an error naming
// reports.csv.delimiter.
func (s CSVSettings) Format() (CSV, error) {
	d, err := ParseDelimiter(s.Delimiter)
	return CSV{BOM: s.BOM, Delimiter: d}, err
}
