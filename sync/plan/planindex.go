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
)

// entry is the plan's compact memory of one reference, managed or met in
// the export: 16 bytes, so that a million of them stay small.
type entry struct {
	cp uint64 // the checkpoint's hash (prefix); 0 when not managed
	// row is the first valid row's hash (prefix), to tell duplicates
	// apart; its lowest bit says the row was counted unchanged.
	row  uint32
	line int32 // the first valid row's line; 0: none yet; -1: only invalid rows
}

func (e entry) unchanged() bool { return e.row&1 == 1 }

// keyed is an entry and the hash of its reference.
type keyed struct {
	key uint64
	entry
}

// refIndex finds entries by reference hash: the managed ones in a slice
// in the checkpoint's order, by reference (24 bytes each, no map
// overhead), the others in a map (new references: a small share of a
// daily export).
//
// An export is most often sorted by reference too: a lookup first tries
// the few entries after the last one found, which are then next in
// memory. Otherwise it goes to the managed entries whose keys share its
// top bits (dir over byKey, about one a bucket). A binary search over a
// million entries sorted by key cost some twenty cache misses a row, a
// fifth of a plan's time (issue 14 §2).
type refIndex struct {
	managed []keyed
	byKey   []uint32 // positions in managed, grouped by key>>shift
	dir     []uint32 // dir[b]: the first of byKey in bucket b; one more at the end
	shift   uint
	// extra holds the entries of references not managed, packed in 8
	// bytes (row, line): their checkpoint hash is 0. A map slot is then
	// 16 bytes, not 24: an import of a million new references holds a
	// million of them.
	extra map[uint64]uint64
	last  int // the position of the last key found in managed, -1 at first
	// sums are the checkpoint's row sums (mapping's rowsum.go), beside
	// managed, 0 when unknown: needed while the export is read only
	// (planrowsum.go), then let go.
	sums []uint64
	// fences are the references of every fenceEvery-th managed entry:
	// where to read the checkpoint again from (absentOnly).
	fences []string
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
	return refIndex{managed: make([]keyed, 0, n), extra: map[uint64]uint64{}, last: -1}
}

// add adds a managed reference, by key, with its checkpoint hash, in the
// checkpoint's order; seal must be called after the last.
func (ix *refIndex) add(ref string, k, cp uint64) {
	if len(ix.managed)%fenceEvery == 0 {
		ix.fences = append(ix.fences, strings.Clone(ref))
	}
	ix.managed = append(ix.managed, keyed{key: k, entry: entry{cp: cp}})
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
// hashes), about one a bucket.
func (ix *refIndex) seal() {
	n := len(ix.managed)
	width := max(bits.Len(uint(n)), 1)
	ix.shift = uint(64 - width)
	ix.dir = make([]uint32, 1<<width+1)
	for _, e := range ix.managed {
		ix.dir[e.key>>ix.shift+1]++
	}
	for b := 1; b < len(ix.dir); b++ {
		ix.dir[b] += ix.dir[b-1]
	}
	next := slices.Clone(ix.dir[:len(ix.dir)-1])
	ix.byKey = make([]uint32, n)
	for i, e := range ix.managed {
		b := e.key >> ix.shift
		ix.byKey[next[b]] = uint32(i)
		next[b]++
	}
}

func (ix *refIndex) find(k uint64) int {
	for i := max(ix.last, 0); i < min(ix.last+ahead, len(ix.managed)); i++ {
		if ix.managed[i].key == k {
			ix.last = i
			return i
		}
	}
	if len(ix.dir) == 0 {
		return -1
	}
	b := k >> ix.shift
	for _, i := range ix.byKey[ix.dir[b]:ix.dir[b+1]] {
		if ix.managed[i].key == k {
			ix.last = int(i)
			return int(i)
		}
	}
	return -1
}

func (ix *refIndex) get(k uint64) entry {
	e, _ := ix.getAt(k)
	return e
}

// getAt returns the entry of key k and its position in managed, -1 for a
// reference not managed.
func (ix *refIndex) getAt(k uint64) (entry, int) {
	if i := ix.find(k); i >= 0 {
		return ix.managed[i].entry, i
	}
	p := ix.extra[k]
	return entry{row: uint32(p >> 32), line: int32(uint32(p))}, -1
}

func (ix *refIndex) put(k uint64, e entry) {
	if i := ix.find(k); i >= 0 {
		ix.managed[i].entry = e
		return
	}
	ix.extra[k] = uint64(e.row)<<32 | uint64(uint32(e.line))
}

func (pl *planner) key(ref string) uint64 { return maphash.String(pl.seed, ref) }

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

// rangeReader reads a stretch of the checkpoint's hashes (state.DB does).
type rangeReader interface {
	HashesBetween(ctx context.Context, from, to string, fn func(ref, hash string) error) error
}

// sumReader reads the checkpoint's hashes with their row sums (state.DB
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

// Hashes streams the stretches that hold an absent reference, in order.
// A stretch is read from its fence to the next, whatever the checkpoint
// holds there now.
func (c absentCheckpoint) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	ix := c.ix
	for f, from := range ix.fences {
		lo, hi := f*fenceEvery, min((f+1)*fenceEvery, len(ix.managed))
		if !slices.ContainsFunc(ix.managed[lo:hi], func(e keyed) bool { return e.line == 0 }) {
			continue
		}
		to := ""
		if f+1 < len(ix.fences) {
			to = ix.fences[f+1]
		}
		if err := c.ranges.HashesBetween(ctx, from, to, fn); err != nil {
			return err
		}
	}
	return nil
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
	line := int(pl.refs.get(pl.key(ref)).line)
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
