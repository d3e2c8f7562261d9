package reconcile

import (
	"cmp"
	"slices"
)

// pendingRow is a record of the CRM not equal at a glance to its export
// row, to be compared field by field when the export is read again: 16
// bytes, where a map of its copy's offset and another of its currency
// took some 100 (issue 25 §5).
type pendingRow struct {
	off  int64  // where the spill file holds the CRM's copy
	exp  int32  // the export's entry
	cur  uint16 // the interned currency its totals count under
	done bool   // compared
}

// pendingRows are the records still to compare, by export entry once
// sealed.
type pendingRows struct {
	rows []pendingRow
	left int // not done
}

// add notes a record to compare; a later one of the same entry stands.
func (p *pendingRows) add(exp int32, cur uint16, off int64) {
	p.rows = append(p.rows, pendingRow{off: off, exp: exp, cur: cur})
}

// seal sorts the records by export entry, the last added of an entry
// standing, before any is found.
func (p *pendingRows) seal() {
	slices.SortStableFunc(p.rows, func(a, b pendingRow) int { return cmp.Compare(a.exp, b.exp) })
	out := p.rows[:0]
	for i, r := range p.rows {
		if i+1 < len(p.rows) && p.rows[i+1].exp == r.exp {
			continue
		}
		out = append(out, r)
	}
	p.rows = slices.Clip(out)
	p.left = len(p.rows)
}

// find returns the record of export entry exp not yet compared, or nil.
func (p *pendingRows) find(exp int32) *pendingRow {
	i, ok := slices.BinarySearchFunc(p.rows, exp, func(r pendingRow, exp int32) int { return cmp.Compare(r.exp, exp) })
	if !ok || p.rows[i].done {
		return nil
	}
	return &p.rows[i]
}

// markDone notes that a record found was compared.
func (p *pendingRows) markDone(r *pendingRow) {
	r.done = true
	p.left--
}
