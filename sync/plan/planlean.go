package plan

// A lean plan's upserts (Options.Lean), held as compact rows in which
// the collector finds no pointer, and made into Actions one at a time,
// when the apply meets their rows again or a caller iterates the plan.

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// leanPlan holds a lean plan's upserts: 32 bytes a row, no pointer, their
// references and parents in one string. An import of a million rows held
// a million Actions (112 bytes, six pointers each) for its whole apply:
// 130 MB that the collector, held near the import's memory limit, scanned
// on every cycle (28% of the import's CPU at 1M).
type leanPlan struct {
	rows  []leanRow // wave after wave, each in the order of its lines
	waves []int     // waves[i]: where wave i ends in rows
	text  string    // the rows' references and parents
	long  []string  // the few strings too long for a span
	names []string  // the rows' ops and reasons, by code
}

// leanRow is one upsert of a lean plan.
type leanRow struct {
	end        atomic.Uint64 // as Action.end: the row's hash (prefix); lowest bit: its end was told
	ref        span
	parent     span
	line       int32 // as the plan's index holds it
	op, reason uint8 // in names
}

// span is a string of leanPlan.text: its offset (40 bits) and length (24
// bits); a length of spanLong says the string is long[offset].
type span uint64

const spanLong = 1<<24 - 1

// newLeanPlan makes a lean plan of upsert waves of Actions, and drops
// them from waves as it goes.
func newLeanPlan(waves [][]*Action) *leanPlan {
	n, size := 0, 0
	for _, w := range waves {
		n += len(w)
		for _, a := range w {
			size += len(a.Reference) + len(a.Parent)
		}
	}
	lp := &leanPlan{rows: make([]leanRow, n), waves: make([]int, 0, len(waves))}
	var text strings.Builder
	text.Grow(size)
	put := func(s string) span {
		if len(s) >= spanLong || text.Len()+len(s) > 1<<40 {
			lp.long = append(lp.long, s)
			return span(len(lp.long)-1)<<24 | spanLong
		}
		sp := span(text.Len())<<24 | span(len(s))
		text.WriteString(s)
		return sp
	}
	i := 0
	for _, w := range waves {
		for j, a := range w {
			r := &lp.rows[i]
			r.end.Store(a.end.Load())
			r.ref, r.parent = put(a.Reference), put(a.Parent)
			r.line, r.op, r.reason = int32(a.Line), lp.code(string(a.Op)), lp.code(a.Reason)
			w[j] = nil // its Action can go
			i++
		}
		lp.waves = append(lp.waves, i)
	}
	lp.text = text.String()
	return lp
}

// code returns the code of an op or a reason, adding it when new.
func (lp *leanPlan) code(name string) uint8 {
	for i, s := range lp.names {
		if s == name {
			return uint8(i)
		}
	}
	if len(lp.names) > 255 {
		panic(fmt.Sprintf("lean plan: more than 256 ops and reasons (%q)", name))
	}
	lp.names = append(lp.names, name)
	return uint8(len(lp.names) - 1)
}

// str returns the string of a span.
func (lp *leanPlan) str(sp span) string {
	at, n := uint64(sp>>24), uint64(sp&spanLong)
	if n == spanLong {
		return lp.long[at]
	}
	return lp.text[at : at+n]
}

// wave returns where wave i starts and ends in rows.
func (lp *leanPlan) wave(i int) (start, end int) {
	if i > 0 {
		start = lp.waves[i-1]
	}
	return start, lp.waves[i]
}

// action makes the Action of row i: a new one at each call, holding no
// customer, its end not told yet (see settleFrom).
func (lp *leanPlan) action(i int) *Action {
	r := &lp.rows[i]
	a := &Action{Op: Op(lp.names[r.op]), Reference: lp.str(r.ref), Line: int(r.line),
		Reason: lp.names[r.reason], Parent: lp.str(r.parent)}
	a.end.Store(r.end.Load() &^ 1)
	return a
}

// settleFrom marks the row's end as told when its Action's was: the
// Action goes, the row stays for settleRest. Nil-safe, for the actions of
// a plan that is not lean.
func (r *leanRow) settleFrom(a *Action) {
	if r != nil && a.end.Load()&1 == 1 {
		r.end.Or(1)
	}
}

// settled reports whether the apply told Done of row i's end.
func (lp *leanPlan) settled(i int) bool { return lp.rows[i].end.Load()&1 == 1 }

// count returns the number of rows of an op.
func (lp *leanPlan) count(op Op) int {
	n := 0
	for i := range lp.rows {
		if lp.names[lp.rows[i].op] == string(op) {
			n++
		}
	}
	return n
}
