package sync

// The plan's packed index of references: what BuildPlan remembers of each
// managed or exported reference, in 16 to 24 bytes.

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strconv"
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
// sorted by key (24 bytes each, no map overhead), the others in a map
// (new references: a small share of a daily export).
type refIndex struct {
	managed []keyed
	extra   map[uint64]entry
}

func (ix *refIndex) find(k uint64) int {
	i, ok := slices.BinarySearchFunc(ix.managed, k, func(e keyed, k uint64) int { return cmp.Compare(e.key, k) })
	if !ok {
		return -1
	}
	return i
}

func (ix *refIndex) get(k uint64) entry {
	if i := ix.find(k); i >= 0 {
		return ix.managed[i].entry
	}
	return ix.extra[k]
}

func (ix *refIndex) put(k uint64, e entry) {
	if i := ix.find(k); i >= 0 {
		ix.managed[i].entry = e
		return
	}
	ix.extra[k] = e
}

func (pl *planner) key(ref string) uint64 { return maphash.String(pl.seed, ref) }

// hashPrefix reads the first 8 bytes of a hex hash; never 0, which means
// "not managed".
func hashPrefix(h string) uint64 {
	if len(h) > 16 {
		h = h[:16]
	}
	v, _ := strconv.ParseUint(h, 16, 64)
	return v | 1
}
