package mapping

// Row sums (issue 14 §2: a plan at the speed of reading). A plan of a
// million rows spent half its CPU mapping values and hashing them with
// sha256, only to find 99% of the rows unchanged. A row's sum is a 64-bit
// xxhash of its cells as read, salted with everything that decides how
// they map: the mapping's settings, the export's header and the version
// of the mapping's code. The checkpoint keeps the sum of the row it last
// pushed; a later row with the same sum maps to the same customer, so a
// plan that reads rows lazily (ReadLazy) need not map it at all. Only the
// cells the mapping reads are summed (summedCells).
//
// Only plain rows get a sum that counts (Customer.RowSum): no image, no
// warning, not a delete. An image can change on disk while its row does
// not, and warnings are shown at every run: those rows are always
// mapped. A lazy row carries its parent, mapped (the plan orders waves
// and checks parents by it).

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cespare/xxhash/v2"

	"erpsync/mapping/country"
	"erpsync/mapping/customer"
	"erpsync/mapping/records"
)

// rowSumVersion is part of every row sum. Raise it whenever the mapping
// of a cell changes in code (a number read otherwise, a new kind, an
// upgrade of golang.org/x/text, whose country names the table reads...):
// a checkpoint's sums of the older code then match no row, and every row
// is mapped and compared by its hash again. The field table and the
// country aliases are in the salt already (codeTables). TestRowSumVersion
// fails when the mapping of its rows changes, as a reminder.
const rowSumVersion = 1

// codeTables is the mapping's own tables as text, part of every row sum:
// the fields and their kinds, the country aliases, short names and
// withdrawn codes. A change to one changes every sum.
var codeTables = sync.OnceValue(func() string {
	var b strings.Builder
	for _, f := range customer.Table() {
		fmt.Fprintf(&b, "%s %v\n", f.Name, f.Kind)
	}
	b.WriteString(country.Tables())
	return b.String()
})

// headerSalt adds an export's header to the mapping's salt: the same
// cells under other columns map otherwise.
func headerSalt(salt uint64, header []string) uint64 {
	d := xxhash.NewWithSeed(salt)
	writeCells(d, header)
	return d.Sum64()
}

// writeCells writes cells, each after its length: "a","bc" and "ab","c"
// differ.
func writeCells(d *xxhash.Digest, cells []string) {
	var n [4]byte
	for _, c := range cells {
		binary.LittleEndian.PutUint32(n[:], uint32(len(c)))
		d.Write(n[:])
		d.WriteString(c)
	}
}

// summedCells returns the positions of the cells a row sum covers: the
// mapped columns' and the delete flag's, in the export's order. A column
// the mapping does not read (an export time, say) may change every day
// without its rows being taken for changed. (The other cells are still
// checked, by readable, before a row is summed.)
func summedCells(cols []column, flagIdx int) []int {
	var at []int
	for _, c := range cols {
		at = append(at, c.index)
	}
	if flagIdx >= 0 {
		at = append(at, flagIdx)
	}
	slices.Sort(at)
	return slices.Compact(at)
}

// rowSum returns the sum of a record's summed cells; never 0, which
// means "no sum". The salt and the cells, each after its length, are laid
// out in one buffer and hashed at once: a write to a digest per cell cost
// twice as much.
func (sc *scratch) rowSum(lay *layout, fields []string) uint64 {
	b := binary.LittleEndian.AppendUint64(sc.buf[:0], lay.salt)
	for _, i := range lay.summed {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(fields[i])))
		b = append(b, fields[i]...)
	}
	sc.buf = b
	return max(xxhash.Sum64(b), 1)
}

// lazyRead is what the rows of one ReadLazy share.
type lazyRead struct {
	m     *Mapping
	lay   *layout
	sheet string      // a workbook's sheet, for the errors Map finds
	eager atomic.Bool // set by Row.StopLazy: map every row from now on
}

// lease is one delivery of a batch's rows by a lazy read: its lazy rows
// point to it, as their cells point into the batch. It ends when the
// batch is taken back for later records (batches.put): a lazy row mapped
// then would map another row's cells, or none, and Map refuses it.
type lease struct {
	*lazyRead
	ended atomic.Bool
}

// staleRowPanics makes Map panic on a row whose lease ended, so that a
// test using a lazy row too late fails loudly. Outside tests the row is
// given back as a row error: failed, reported, planned again next run.
var staleRowPanics = testing.Testing()

// mayDefer reports whether a valid record may be left unmapped: a read
// that is lazy still, and a row that may be plain (its image cell empty
// as read). A row taken for plain here that is not one is mapped by Map
// when asked: it costs time, never a wrong answer.
func (lay *layout) mayDefer(fields []string) bool {
	if lay.lazy == nil || lay.lazy.eager.Load() {
		return false
	}
	return lay.imageIdx < 0 || strings.TrimSpace(fields[lay.imageIdx]) == ""
}

// deferred returns a record left unmapped (ReadLazy), with its parent
// mapped as the row's would be: the plan orders waves and checks parents
// by it, whether the row changed or not. ok is false when the parent cell
// does not map: the row is then mapped whole, for its error.
func (m *Mapping) deferred(lay *layout, rec records.Record, sc *scratch, ref string, sum uint64) (Row, bool) {
	r := Row{Line: rec.Line, Reference: ref, Sum: sum, rec: rec, lazy: sc.lease}
	if lay.parentCol < 0 {
		return r, true
	}
	c := lay.cols[lay.parentCol]
	parent, err := sc.cellValue(m, c, rec.Fields[c.index])
	r.Parent = parent
	return r, err == nil
}

// Lazy reports whether the row is valid but not mapped yet (ReadLazy):
// Reference, Sum and Parent are set, Customer is not; Map maps it.
func (r Row) Lazy() bool { return r.lazy != nil }

// Map returns the row mapped: its customer, or its row error. A row that
// is not lazy is returned as it is. A lazy row can be mapped only until
// the function it was given to returns: the read then uses its memory
// for later rows. Mapped after that memory was reused, it panics in tests
// and is a row error otherwise (staleRowPanics).
func (r Row) Map() Row {
	if r.lazy == nil {
		return r
	}
	if r.lazy.ended.Load() {
		err := fmt.Errorf("lazy row of line %d mapped after its batch was reused (a bug in erpsync: "+
			"Map it within the function it was given to)", r.Line)
		if staleRowPanics {
			panic("mapping: " + err.Error())
		}
		return Row{Line: r.Line, Err: &RowError{File: r.lazy.lay.path, Line: r.Line, Reference: r.Reference, Err: err}}
	}
	row := bounded(r.lazy.m.row(r.lazy.lay, r.rec, &scratch{eager: true}))
	if row.Err != nil && r.lazy.sheet != "" {
		row.Err.Sheet = r.lazy.sheet // as Read marks them (onSheet)
	}
	return row
}

// StopLazy makes the rest of the read map every row (most lazy rows had
// to be mapped after all: a checkpoint without sums, say).
func (r Row) StopLazy() {
	if r.lazy != nil {
		r.lazy.eager.Store(true)
	}
}
