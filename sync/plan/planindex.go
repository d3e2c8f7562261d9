package plan

// The planner's use of its packed index of references (refindex): keys,
// lookups, and the stretches of absent references read again.

import (
	"cmp"
	"context"
	"hash/maphash"
	"iter"
	"slices"

	"erpsync/sync/plan/refindex"
	"erpsync/sync/plan/stretches"
)

// entryOf returns the index's entry of ref.
func (pl *planner) entryOf(ref string) refindex.Entry { return pl.refs.Get(ref, pl.key(ref)) }

func (pl *planner) key(ref string) uint64 {
	if pl.opt.keyOf != nil {
		return pl.opt.keyOf(ref)
	}
	return maphash.String(pl.seed, ref)
}

// hashPrefix reads the first 8 bytes of a hex hash; never 0, which means
// "not managed". Text that is not hex reads as 1. (By a table: ParseUint
// took 0.28 CPU s of a plan of a million rows, two calls a row.)
func hashPrefix(h string) uint64 {
	var v uint64
	for i := 0; i < len(h) && i < 16; i++ {
		d := hexDigit[h[i]]
		if d > 15 {
			return 1
		}
		v = v<<4 | uint64(d)
	}
	return v | 1
}

// hexDigit is the value of each byte as a hex digit; 16 and over: not one.
var hexDigit = func() (t [256]byte) {
	for i := range t {
		t[i] = 255
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = byte(10 + i)
	}
	return t
}()

// rangeReader reads a stretch of the checkpoint's hashes (sqlite.DB does).
type rangeReader = stretches.Reader

// sumReader reads the checkpoint's hashes with their row sums (sqlite.DB
// does); a checkpoint without is read as having no sums.
type sumReader interface {
	HashSumsBetween(ctx context.Context, from, to string, fn func(ref, hash string, sum uint64) error) error
}

// absentCheckpoint is the checkpoint as planDeletes reads it: its Hashes
// streams, in order, only the stretches of the checkpoint (between two
// fences) that hold a managed reference the export did not name, instead
// of the whole checkpoint a second time (issue 14 §2). planDeletes picks
// the absent references out of what it streams, as it did of the whole.
type absentCheckpoint struct {
	Checkpoint
	ranges rangeReader
	ix     *refindex.Index
}

// absentOnly returns cp for planDeletes: a view streaming the stretches
// of the absent references when cp can read stretches, else cp itself.
func (pl *planner) absentOnly(cp Checkpoint) Checkpoint {
	rr, ok := cp.(rangeReader)
	if !ok || len(pl.refs.Fences()) == 0 {
		return cp
	}
	return absentCheckpoint{Checkpoint: cp, ranges: rr, ix: &pl.refs}
}

// Hashes streams the stretches that hold an absent reference, in order,
// each read from its fence to the next, whatever the checkpoint holds
// there now, on every core (some 5,000 queries after the export of a day
// 2 of a million rows).
func (c absentCheckpoint) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	return stretches.Stream(ctx, c.ranges, c.ix.Fences(), c.ix.AbsentStretches(), fn)
}

// sortList puts the planned actions in the order of their lines, as a
// read of a file gives them already (rows given in another order, as
// tests may, are sorted once).
func (pl *planner) sortList() {
	byLine := func(a, b *Action) int { return cmp.Compare(a.Line, b.Line) }
	if !slices.IsSortedFunc(pl.list, byLine) {
		slices.SortStableFunc(pl.list, byLine)
	}
	draftLine := func(a, b draftRow) int { return cmp.Compare(a.line, b.line) }
	if !slices.IsSortedFunc(pl.drafts, draftLine) {
		slices.SortStableFunc(pl.drafts, draftLine)
	}
}

// plannedAt returns what is planned for a reference whose index entry is
// e: its action, or else the position in drafts of its draft (a lean
// plan's create with no parent), -1 for none. Either is the one of its
// first valid row's line, unless it was taken back.
func (pl *planner) plannedAt(ref string, e refindex.Entry) (*Action, int) {
	line := e.Line
	if line <= 0 {
		return nil, -1
	}
	i, _ := slices.BinarySearchFunc(pl.list, int(line), func(a *Action, l int) int { return cmp.Compare(a.Line, l) })
	for ; i < len(pl.list) && pl.list[i].Line == int(line); i++ {
		if a := pl.list[i]; a.Reference == ref && !pl.dropped[a] {
			return a, -1
		}
	}
	i, _ = slices.BinarySearchFunc(pl.drafts, line, func(d draftRow, l int32) int { return cmp.Compare(d.line, l) })
	for ; i < len(pl.drafts) && pl.drafts[i].line == line; i++ {
		if d := &pl.drafts[i]; !d.dropped && pl.draftText.str(d.ref) == ref {
			return nil, i
		}
	}
	return nil, -1
}

// takeBack takes back the upsert or delete planned for a reference, an
// Action or a draft; it reports whether there was one.
func (pl *planner) takeBack(ref string) bool {
	a, d := pl.plannedAt(ref, pl.entryOf(ref))
	switch {
	case a != nil:
		pl.dropped[a] = true
	case d >= 0:
		pl.drafts[d].dropped = true
		pl.draftsTaken++
	}
	return a != nil || d >= 0
}

// actions yields the planned actions, in the order of their lines; not
// a lean plan's drafts.
func (pl *planner) actions() iter.Seq[*Action] {
	return func(yield func(*Action) bool) {
		for _, a := range pl.list {
			if !pl.dropped[a] && !yield(a) {
				return
			}
		}
	}
}

// planning counts the planned actions, drafts included.
func (pl *planner) planning() int {
	return len(pl.list) - len(pl.dropped) + len(pl.drafts) - pl.draftsTaken
}
