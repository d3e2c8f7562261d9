package plan

// The plan's packed index of references: what Build remembers of each
// managed or exported reference, in 16 to 24 bytes.

import (
	"cmp"
	"context"
	"hash/maphash"
	"iter"
	"math/bits"
	"slices"
	"strings"

	"erpsync/sync/plan/stretches"
)

// entry is the plan's memory of one reference, managed or met in the
// export, as the index gives it and takes it back (get, setAt).
type entry struct {
	cp uint64 // the checkpoint's hash (prefix); 0 when not managed
	// row is the first valid row's hash (prefix), to tell duplicates
	// apart; its lowest bit says the row was counted unchanged.
	row  uint32
	line int32 // the first valid row's line; 0: none yet; -1: only invalid rows
}

func (e entry) unchanged() bool { return e.row&1 == 1 }

// refIndex finds entries by reference: the managed ones in the
// checkpoint's order, by reference, in about 24 bytes each (issue 25: 34
// before), the others in a map (new references: a small share of a daily
// export).
//
// A managed entry is its key (the 64-bit hash of its reference) and one
// word: the checkpoint's hash until a row of it is met, then that row's
// (row, line), a bit of seen telling which. Nothing reads the
// checkpoint's hash once a valid row was met: a later row is a duplicate,
// compared with the first row's. The rare entry met only by invalid rows
// (line -1) keeps its hash and line in odd.
//
// An export is most often sorted by reference too: a lookup first tries
// the few entries after the last one found, which are then next in
// memory. Otherwise it goes to the managed entries whose keys share its
// top bits (dir over byKey, one or two a bucket).
//
// Two references may share a key. A managed entry is taken for a
// reference only when the reference lies in the entry's stretch of the
// checkpoint (between its fence and the next): a new reference, or a
// managed one elsewhere, with the same key is told apart by that. Two
// managed references of one stretch sharing a key are told apart by
// reading that stretch's references again (resolve, a few rows). What is
// left is a new reference sharing its key with a managed one of its own
// stretch of 16, or with another new one: about 2^-60 a row.
type refIndex struct {
	keys  []uint64 // the managed entries' keys, in the checkpoint's order
	vals  []uint64 // beside keys: the checkpoint's hash, or (row, line) once seen
	seen  []uint64 // a bit a managed entry: vals holds (row, line)
	odd   map[int32]entry
	byKey []uint32 // positions in keys, grouped by key>>shift
	dir   []uint32 // dir[b]: the first of byKey in bucket b; one more at the end
	shift uint
	// extra holds the entries of references not managed, packed in 8
	// bytes (row, line): their checkpoint hash is 0. A map slot is then
	// 16 bytes, not 24: an import of a million new references holds a
	// million of them.
	extra map[uint64]uint64
	last  int // the position of the last key found in keys, -1 at first
	// sums are the checkpoint's row sums (mapping's rowsum.go), beside
	// keys, 0 when unknown: needed while the export is read only
	// (planrowsum.go), then let go.
	sums []uint64
	// fences are the references of every fenceEvery-th managed entry:
	// where to read the checkpoint again from (absentOnly), and the
	// bounds of each entry's stretch when ordered (the checkpoint was
	// streamed in reference order).
	fences  []string
	ordered bool
	// exact holds the positions of the references of stretches where
	// two managed references share a key (-1: not managed there), read
	// again by resolve; err is resolve's first error.
	exact   map[string]int
	resolve func(from string) ([]string, error)
	err     error
}

// fenceEvery is how many managed entries apart the fences are.
const fenceEvery = 16

// ahead is how many entries after the last one found a lookup tries
// before it asks the directory: references removed from a sorted export
// are skipped that way.
const ahead = 4

// newRefIndex returns an index to add n managed references to, in the
// checkpoint's order.
func newRefIndex(n int) refIndex {
	return refIndex{keys: make([]uint64, 0, n), vals: make([]uint64, 0, n), extra: map[uint64]uint64{}, last: -1, ordered: true}
}

// add adds a managed reference, by key, with its checkpoint hash, in the
// checkpoint's order; seal must be called after the last.
func (ix *refIndex) add(ref string, k, cp uint64) {
	if len(ix.keys)%fenceEvery == 0 {
		ix.fences = append(ix.fences, strings.Clone(ref))
	}
	ix.keys, ix.vals = append(ix.keys, k), append(ix.vals, cp)
}

// sumAt returns the row sum of the managed entry at position i, 0 when
// there is none (i is -1, or the sums were let go).
func (ix *refIndex) sumAt(i int) uint64 {
	if i < 0 || i >= len(ix.sums) {
		return 0
	}
	return ix.sums[i]
}

// seal builds the directory: the positions of the managed entries grouped
// by the top bits of their keys (a counting sort, the keys being uniform
// hashes), one or two a bucket.
func (ix *refIndex) seal() {
	n := len(ix.keys)
	width := max(bits.Len(uint(n))-1, 1)
	ix.shift = uint(64 - width)
	ix.dir = make([]uint32, 1<<width+1)
	for _, k := range ix.keys {
		ix.dir[k>>ix.shift]++
	}
	for b := 1; b < len(ix.dir); b++ {
		ix.dir[b] += ix.dir[b-1] // the end of bucket b
	}
	ix.byKey = make([]uint32, n)
	for i := n - 1; i >= 0; i-- {
		b := ix.keys[i] >> ix.shift
		ix.dir[b]--
		ix.byKey[ix.dir[b]] = uint32(i) // dir[b] ends as the start of bucket b
	}
	if need := (n + 63) / 64; len(ix.seen) < need {
		ix.seen = append(ix.seen, make([]uint64, need-len(ix.seen))...)
	}
}

// inStretch reports whether ref lies in the stretch of the checkpoint
// that holds the managed entry at i (always, for a checkpoint not
// streamed in order).
func (ix *refIndex) inStretch(ref string, i int) bool {
	if !ix.ordered {
		return true
	}
	f := i / fenceEvery
	if f >= len(ix.fences) || ref < ix.fences[f] {
		return false
	}
	return f+1 >= len(ix.fences) || ref < ix.fences[f+1]
}

// find returns the position of ref's managed entry (key k), -1 when it
// is not managed.
func (ix *refIndex) find(ref string, k uint64) int {
	for i := max(ix.last, 0); i < min(ix.last+ahead, len(ix.keys)); i++ {
		if ix.keys[i] == k && ix.inStretch(ref, i) {
			return ix.found(ref, k, i)
		}
	}
	if len(ix.dir) == 0 {
		return -1
	}
	b := k >> ix.shift
	for _, i := range ix.byKey[ix.dir[b]:ix.dir[b+1]] {
		if ix.keys[i] == k && ix.inStretch(ref, int(i)) {
			return ix.found(ref, k, int(i))
		}
	}
	return -1
}

// found takes the managed entry at i, whose key is ref's and whose
// stretch holds ref: unless another of the stretch has that key too, the
// entry is ref's.
func (ix *refIndex) found(ref string, k uint64, i int) int {
	f := i / fenceEvery
	for j := f * fenceEvery; j < min((f+1)*fenceEvery, len(ix.keys)); j++ {
		if j != i && ix.keys[j] == k {
			return ix.exactly(ref, f)
		}
	}
	ix.last = i
	return i
}

// exactly finds ref among the references of stretch f, read again: two
// of them share ref's key.
func (ix *refIndex) exactly(ref string, f int) int {
	if i, ok := ix.exact[ref]; ok {
		return i
	}
	if ix.exact == nil {
		ix.exact = map[string]int{}
	}
	ix.exact[strings.Clone(ref)] = -1
	if ix.resolve == nil || !ix.ordered {
		return -1
	}
	refs, err := ix.resolve(ix.fences[f])
	if err != nil {
		ix.err = cmp.Or(ix.err, err)
		return -1
	}
	for j, r := range refs[:min(len(refs), fenceEvery)] {
		ix.exact[strings.Clone(r)] = f*fenceEvery + j
	}
	return ix.exact[ref]
}

// entryAt returns the managed entry at position i.
func (ix *refIndex) entryAt(i int) entry {
	if len(ix.odd) > 0 {
		if e, ok := ix.odd[int32(i)]; ok {
			return e
		}
	}
	v := ix.vals[i]
	if i>>6 < len(ix.seen) && ix.seen[i>>6]&(1<<(i&63)) != 0 {
		return entry{cp: 1, row: uint32(v >> 32), line: int32(uint32(v))}
	}
	return entry{cp: v}
}

func (ix *refIndex) get(ref string, k uint64) entry {
	e, _ := ix.getAt(ref, k)
	return e
}

// getAt returns the entry of ref (key k) and its position among the
// managed ones, -1 for a reference not managed.
func (ix *refIndex) getAt(ref string, k uint64) (entry, int) {
	if i := ix.find(ref, k); i >= 0 {
		return ix.entryAt(i), i
	}
	return ix.extraOf(k), -1
}

// extraOf returns the entry of a reference not managed, by key.
func (ix *refIndex) extraOf(k uint64) entry {
	p := ix.extra[k]
	return entry{row: uint32(p >> 32), line: int32(uint32(p))}
}

// setAt stores the entry of a reference: the managed one at position i,
// or, i being -1, the one of key k not managed.
func (ix *refIndex) setAt(i int, k uint64, e entry) {
	if i < 0 {
		ix.extra[k] = uint64(e.row)<<32 | uint64(uint32(e.line))
		return
	}
	if e.line > 0 {
		delete(ix.odd, int32(i))
		ix.vals[i] = uint64(e.row)<<32 | uint64(uint32(e.line))
		ix.seen[i>>6] |= 1 << (i & 63)
		return
	}
	if ix.odd == nil {
		ix.odd = map[int32]entry{}
	}
	ix.odd[int32(i)] = e
}

// entryOf returns the index's entry of ref.
func (pl *planner) entryOf(ref string) entry { return pl.refs.get(ref, pl.key(ref)) }

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
	ix     *refIndex
}

// absentOnly returns cp for planDeletes: a view streaming the stretches
// of the absent references when cp can read stretches, else cp itself.
func (pl *planner) absentOnly(cp Checkpoint) Checkpoint {
	rr, ok := cp.(rangeReader)
	if !ok || len(pl.refs.fences) == 0 {
		return cp
	}
	return absentCheckpoint{Checkpoint: cp, ranges: rr, ix: &pl.refs}
}

// Hashes streams the stretches that hold an absent reference, in order,
// each read from its fence to the next, whatever the checkpoint holds
// there now, on every core (some 5,000 queries after the export of a day
// 2 of a million rows).
func (c absentCheckpoint) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	var chosen []int
	for f := range c.ix.fences {
		if c.ix.absentIn(f*fenceEvery, min((f+1)*fenceEvery, len(c.ix.keys))) {
			chosen = append(chosen, f)
		}
	}
	return stretches.Stream(ctx, c.ranges, c.ix.fences, chosen, fn)
}

// absentIn reports whether a managed entry between positions lo and hi
// was met by no row.
func (ix *refIndex) absentIn(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		if ix.entryAt(i).line == 0 {
			return true
		}
	}
	return false
}

// sortList puts the planned actions in the order of their lines, as a
// read of a file gives them already (rows given in another order, as
// tests may, are sorted once).
func (pl *planner) sortList() {
	byLine := func(a, b *Action) int { return cmp.Compare(a.Line, b.Line) }
	if !slices.IsSortedFunc(pl.list, byLine) {
		slices.SortStableFunc(pl.list, byLine)
	}
}

// planned returns the action planned for a reference, or nil: the one of
// its first valid row's line, unless it was taken back.
func (pl *planner) planned(ref string) *Action {
	line := int(pl.entryOf(ref).line)
	if line <= 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(pl.list, line, func(a *Action, l int) int { return cmp.Compare(a.Line, l) })
	for ; i < len(pl.list) && pl.list[i].Line == line; i++ {
		if a := pl.list[i]; a.Reference == ref && !pl.dropped[a] {
			return a
		}
	}
	return nil
}

// actions yields the planned actions, in the order of their lines.
func (pl *planner) actions() iter.Seq[*Action] {
	return func(yield func(*Action) bool) {
		for _, a := range pl.list {
			if !pl.dropped[a] && !yield(a) {
				return
			}
		}
	}
}

// planning counts the planned actions.
func (pl *planner) planning() int { return len(pl.list) - len(pl.dropped) }
