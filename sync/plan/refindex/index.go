// Package refindex is the plan's packed index of references: what the
// plan remembers of each managed or exported reference, in 16 to 24
// bytes, found by reference through a directory of hash keys, with the
// checkpoint's order kept as fences (every FenceEvery-th reference).
package refindex

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"
)

// Entry is the plan's memory of one reference, managed or met in the
// export, as the index gives it and takes it back (Get, SetAt).
type Entry struct {
	CP uint64 // the checkpoint's hash (prefix); 0 when not managed
	// Row is the first valid row's hash (prefix), to tell duplicates
	// apart; its lowest bit says the row was counted unchanged.
	Row  uint32
	Line int32 // the first valid row's line; 0: none yet; -1: only invalid rows
}

func (e Entry) Unchanged() bool { return e.Row&1 == 1 }

// Index finds entries by reference: the managed ones in the
// checkpoint's order, by reference, in about 24 bytes each (issue 25: 34
// before), the others in a map (new references: a small share of a daily
// export).
//
// A managed Entry is its key (the 64-bit hash of its reference) and one
// word: the checkpoint's hash until a row of it is met, then that row's
// (row, line), a bit of seen telling which. Nothing reads the
// checkpoint's hash once a valid row was met: a later row is a duplicate,
// compared with the first row's. The rare Entry met only by invalid rows
// (line -1) keeps its hash and line in odd.
//
// An export is most often sorted by reference too: a lookup first tries
// the few entries after the last one found, which are then next in
// memory. Otherwise it goes to the managed entries whose keys share its
// top bits (dir over byKey, one or two a bucket).
//
// Two references may share a key. A managed Entry is taken for a
// reference only when the reference lies in the Entry's stretch of the
// checkpoint (between its fence and the next): a new reference, or a
// managed one elsewhere, with the same key is told apart by that. Two
// managed references of one stretch sharing a key are told apart by
// reading that stretch's references again (resolve, a few rows). What is
// left is a new reference sharing its key with a managed one of its own
// stretch of 16, or with another new one: about 2^-60 a row.
type Index struct {
	keys  []uint64 // the managed entries' keys, in the checkpoint's order
	vals  []uint64 // beside keys: the checkpoint's hash, or (row, line) once seen
	seen  []uint64 // a bit a managed Entry: vals holds (row, line)
	odd   map[int32]Entry
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
	// fences are the references of every FenceEvery-th managed Entry:
	// where to read the checkpoint again from (absentOnly), and the
	// bounds of each Entry's stretch when ordered (the checkpoint was
	// streamed in reference order).
	fences  []string
	ordered bool
	// exact holds the positions of the references of stretches where
	// two managed references share a key (-1: not managed there), read
	// again by resolve; err is resolve's first error.
	exact   map[string]int
	Resolve func(from string) ([]string, error)
	err     error
}

// FenceEvery is how many managed entries apart the fences are.
const FenceEvery = 16

// ahead is how many entries after the last one found a lookup tries
// before it asks the directory: references removed from a sorted export
// are skipped that way.
const ahead = 4

// New returns an index to add n managed references to, in the
// checkpoint's order.
func New(n int) Index {
	return Index{keys: make([]uint64, 0, n), vals: make([]uint64, 0, n), extra: map[uint64]uint64{}, last: -1, ordered: true}
}

// Add adds a managed reference, by key, with its checkpoint hash, in the
// checkpoint's order; Seal must be called after the last.
func (ix *Index) Add(ref string, k, cp uint64) {
	if len(ix.keys)%FenceEvery == 0 {
		ix.fences = append(ix.fences, strings.Clone(ref))
	}
	ix.keys, ix.vals = append(ix.keys, k), append(ix.vals, cp)
}

// SumAt returns the row sum of the managed Entry at position i, 0 when
// there is none (i is -1, or the sums were let go).
func (ix *Index) SumAt(i int) uint64 {
	if i < 0 || i >= len(ix.sums) {
		return 0
	}
	return ix.sums[i]
}

// Seal builds the directory: the positions of the managed entries grouped
// by the top bits of their keys (a counting sort, the keys being uniform
// hashes), one or two a bucket.
func (ix *Index) Seal() {
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
// that holds the managed Entry at i (always, for a checkpoint not
// streamed in order).
func (ix *Index) inStretch(ref string, i int) bool {
	if !ix.ordered {
		return true
	}
	f := i / FenceEvery
	if f >= len(ix.fences) || ref < ix.fences[f] {
		return false
	}
	return f+1 >= len(ix.fences) || ref < ix.fences[f+1]
}

// find returns the position of ref's managed Entry (key k), -1 when it
// is not managed.
func (ix *Index) find(ref string, k uint64) int {
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

// found takes the managed Entry at i, whose key is ref's and whose
// stretch holds ref: unless another of the stretch has that key too, the
// Entry is ref's.
func (ix *Index) found(ref string, k uint64, i int) int {
	f := i / FenceEvery
	for j := f * FenceEvery; j < min((f+1)*FenceEvery, len(ix.keys)); j++ {
		if j != i && ix.keys[j] == k {
			return ix.exactly(ref, f)
		}
	}
	ix.last = i
	return i
}

// exactly finds ref among the references of stretch f, read again: two
// of them share ref's key.
func (ix *Index) exactly(ref string, f int) int {
	if i, ok := ix.exact[ref]; ok {
		return i
	}
	if ix.exact == nil {
		ix.exact = map[string]int{}
	}
	ix.exact[strings.Clone(ref)] = -1
	if ix.Resolve == nil || !ix.ordered {
		return -1
	}
	refs, err := ix.Resolve(ix.fences[f])
	if err != nil {
		ix.err = cmp.Or(ix.err, err)
		return -1
	}
	for j, r := range refs[:min(len(refs), FenceEvery)] {
		ix.exact[strings.Clone(r)] = f*FenceEvery + j
	}
	return ix.exact[ref]
}

// EntryAt returns the managed Entry at position i.
func (ix *Index) EntryAt(i int) Entry {
	if len(ix.odd) > 0 {
		if e, ok := ix.odd[int32(i)]; ok {
			return e
		}
	}
	v := ix.vals[i]
	if i>>6 < len(ix.seen) && ix.seen[i>>6]&(1<<(i&63)) != 0 {
		return Entry{CP: 1, Row: uint32(v >> 32), Line: int32(uint32(v))}
	}
	return Entry{CP: v}
}

// Get returns the entry of ref (key k).
func (ix *Index) Get(ref string, k uint64) Entry {
	e, _ := ix.GetAt(ref, k)
	return e
}

// GetAt returns the Entry of ref (key k) and its position among the
// managed ones, -1 for a reference not managed.
func (ix *Index) GetAt(ref string, k uint64) (Entry, int) {
	if i := ix.find(ref, k); i >= 0 {
		return ix.EntryAt(i), i
	}
	return ix.ExtraOf(k), -1
}

// ExtraOf returns the Entry of a reference not managed, by key.
func (ix *Index) ExtraOf(k uint64) Entry {
	p := ix.extra[k]
	return Entry{Row: uint32(p >> 32), Line: int32(uint32(p))}
}

// SetAt stores the Entry of a reference: the managed one at position i,
// or, i being -1, the one of key k not managed.
func (ix *Index) SetAt(i int, k uint64, e Entry) {
	if i < 0 {
		ix.extra[k] = uint64(e.Row)<<32 | uint64(uint32(e.Line))
		return
	}
	if e.Line > 0 {
		delete(ix.odd, int32(i))
		ix.vals[i] = uint64(e.Row)<<32 | uint64(uint32(e.Line))
		ix.seen[i>>6] |= 1 << (i & 63)
		return
	}
	if ix.odd == nil {
		ix.odd = map[int32]Entry{}
	}
	ix.odd[int32(i)] = e
}

// Locate finds a managed reference among the entries loaded so far, before
// the index is sealed: the few after the last one found (a sorted export),
// else the FenceEvery entries after the last fence at or before ref. It
// returns the position, and remembers it; -1 when ref is not managed
// (every reference up to ref is loaded).
func (ix *Index) Locate(ref string, k uint64) int {
	for i := max(ix.last, 0); i < min(ix.last+ahead, len(ix.keys)); i++ {
		if ix.keys[i] == k && ix.inStretch(ref, i) {
			return ix.found(ref, k, i)
		}
	}
	f, found := slices.BinarySearch(ix.fences, ref)
	if !found {
		f--
	}
	if f < 0 {
		return -1
	}
	for i := f * FenceEvery; i < min((f+1)*FenceEvery, len(ix.keys)); i++ {
		if ix.keys[i] == k {
			return ix.found(ref, k, i)
		}
	}
	return -1
}

// absentIn reports whether a managed Entry between positions lo and hi
// was met by no row.
func (ix *Index) absentIn(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		if ix.EntryAt(i).Line == 0 {
			return true
		}
	}
	return false
}

// Len is how many managed entries the index holds.
func (ix *Index) Len() int { return len(ix.keys) }

// Unordered says the checkpoint was not streamed in reference order: the
// stretches between fences mean nothing, keys alone tell entries apart.
func (ix *Index) Unordered() { ix.ordered = false }

// Expect sizes the index's seen bits for n managed entries, before they
// are loaded (Load).
func (ix *Index) Expect(n int) { ix.seen = make([]uint64, (n+63)/64) }

// Load makes the index read the entries loaded so far: keys, checkpoint
// hashes and row sums side by side, in the checkpoint's order, and the
// fences among them. Seal is called after the last.
func (ix *Index) Load(keys, vals, sums []uint64, fences []string) {
	ix.keys, ix.vals, ix.sums, ix.fences = keys, vals, sums, fences
}

// DropSums lets the row sums go once the export is read (8 MB a million
// records).
func (ix *Index) DropSums() { ix.sums = nil }

// Err is the first error of reading a stretch again (Resolve).
func (ix *Index) Err() error { return ix.err }

// Fences are the references of every FenceEvery-th managed entry.
func (ix *Index) Fences() []string { return ix.fences }

// AbsentStretches returns the stretches (by fence) holding a managed
// entry that no row met.
func (ix *Index) AbsentStretches() []int {
	var chosen []int
	for f := range ix.fences {
		if ix.absentIn(f*FenceEvery, min((f+1)*FenceEvery, len(ix.keys))) {
			chosen = append(chosen, f)
		}
	}
	return chosen
}
