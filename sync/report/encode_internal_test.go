package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
)

// BenchmarkLineEncode is the encoding of one report line alone, without
// the disk: cells written by hand (how erpsync wrote them before gocsv)
// against the row struct through gocsv.
func BenchmarkLineEncode(b *testing.B) {
	row := OutcomeLine{"create", "CUST-0001234", "123456", "201", "", "created"}
	b.Run("cells", func(b *testing.B) {
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		b.ReportAllocs()
		for b.Loop() {
			cells := slices.Clone([]string{row.Operation, row.Reference, row.Line, row.HTTPStatus, row.Error, row.Message})
			_ = safeWriter{cw}.Write(cells)
			cw.Flush()
			buf.Reset()
		}
	})
	b.Run("gocsv", func(b *testing.B) {
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		b.ReportAllocs()
		for b.Loop() {
			_ = WriteRows(cw, row)
			cw.Flush()
			buf.Reset()
		}
	})
}
