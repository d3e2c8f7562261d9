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
	*leanStrings
}

// leanStrings are a lean plan's strings: references and parents in one
// text, only appended to (a string read of it never changes), the few too
// long for a span apart, ops and reasons by code. Held by pointer: a
// strings.Builder is not copied.
type leanStrings struct {
	text  strings.Builder
	long  []string // the few strings too long for a span
	names []string // the rows' ops and reasons, by code
}

// leanRow is one upsert of a lean plan.
type leanRow struct {
	end        atomic.Uint64 // as Action.end: the row's hash (prefix); lowest bit: its end was told
	ref        span
	parent     span
	line       int32 // as the plan's index holds it
	op, reason uint8 // in names
}

// draftRow is a create with no parent that a lean plan meets while it
// reads the export (planner.drafts): no Action is made of it, only these
// 24 bytes with no pointer, its reference in the plan's leanStrings. An
// import's plan of a million rows held a million Actions until its
// waves were made, its live heap near the import's memory limit: the
// collector ran back to back, a quarter of the plan's CPU. It becomes a
// leanRow of the first wave (newLeanPlan); one taken back (a duplicate,
// a folded reference) is dropped.
type draftRow struct {
	end     uint64 // as Action.end: the row's hash (prefix), lowest bit cleared
	ref     span
	line    int32
	reason  uint8 // in names
	dropped bool
}

// span is a string of leanStrings.text: its offset (40 bits) and length (24
// bits); a length of spanLong says the string is long[offset].
type span uint64

const spanLong = 1<<24 - 1

// newLeanPlan makes a lean plan of upsert waves of Actions and of the
// drafts (creates with no parent, in the order of their lines, their
// strings in ls), and drops the Actions from waves as it goes. The drafts
// go to the first wave, in the order of the lines with its Actions.
func newLeanPlan(waves [][]*Action, drafts []draftRow, ls *leanStrings) *leanPlan {
	n, size := 0, 0
	for _, w := range waves {
		n += len(w)
		for _, a := range w {
			size += len(a.Reference) + len(a.Parent)
		}
	}
	for i := range drafts {
		if !drafts[i].dropped {
			n++
		}
	}
	if len(waves) == 0 && n > 0 {
		waves = [][]*Action{nil}
	}
	lp := &leanPlan{rows: make([]leanRow, n), waves: make([]int, 0, len(waves)), leanStrings: ls}
	lp.text.Grow(size)
	create := lp.code(string(OpCreate))
	i := 0
	fromAction := func(a *Action) {
		r := &lp.rows[i]
		r.end.Store(a.end.Load())
		r.ref, r.parent = lp.put(a.Reference), lp.put(a.Parent)
		r.line, r.op, r.reason = int32(a.Line), lp.code(string(a.Op)), lp.code(a.Reason)
		i++
	}
	for wi, w := range waves {
		for j, a := range w {
			// A draft goes before an Action of its line: a line is one
			// row, so there is none in an export.
			for wi == 0 && len(drafts) > 0 && drafts[0].line <= int32(a.Line) {
				i += lp.fromDraft(i, &drafts[0], create)
				drafts = drafts[1:]
			}
			fromAction(a)
			w[j] = nil // its Action can go
		}
		for wi == 0 && len(drafts) > 0 {
			i += lp.fromDraft(i, &drafts[0], create)
			drafts = drafts[1:]
		}
		lp.waves = append(lp.waves, i)
	}
	return lp
}

// fromDraft makes row i of a draft not dropped: it returns the rows made.
func (lp *leanPlan) fromDraft(i int, d *draftRow, create uint8) int {
	if d.dropped {
		return 0
	}
	r := &lp.rows[i]
	r.end.Store(d.end)
	r.ref, r.line, r.op, r.reason = d.ref, d.line, create, d.reason
	return 1
}

// put adds a string to the text, or to long when too long for a span.
func (ls *leanStrings) put(s string) span {
	if s == "" {
		return 0
	}
	if len(s) >= spanLong || ls.text.Len()+len(s) > 1<<40 {
		ls.long = append(ls.long, s)
		return span(len(ls.long)-1)<<24 | spanLong
	}
	sp := span(ls.text.Len())<<24 | span(len(s))
	ls.text.WriteString(s)
	return sp
}

// code returns the code of an op or a reason, adding it when new.
func (ls *leanStrings) code(name string) uint8 {
	for i, s := range ls.names {
		if s == name {
			return uint8(i)
		}
	}
	if len(ls.names) > 255 {
		panic(fmt.Sprintf("lean plan: more than 256 ops and reasons (%q)", name))
	}
	ls.names = append(ls.names, name)
	return uint8(len(ls.names) - 1)
}

// str returns the string of a span.
func (ls *leanStrings) str(sp span) string {
	at, n := uint64(sp>>24), uint64(sp&spanLong)
	if n == spanLong {
		return ls.long[at]
	}
	return ls.text.String()[at : at+n]
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
