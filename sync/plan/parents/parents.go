// Package parents holds the plan's parents of the rows that have one, by
// key (the 64-bit hash of a reference): a sparse sorted array of (child,
// parent) pairs, 16 bytes a row with a parent, where a map took some 50
// (7.6 MB for the 150,000 sub-customers of a million rows; issue 25).
package parents

import (
	"cmp"
	"iter"
	"slices"
)

// Index maps a child's key to its parent's. The read appends
// (Set); the first question after it sorts the pairs once (Get, Drop).
// A child set twice keeps its last parent, as a map would.
type Index struct {
	pairs  []pair
	sorted int // how many pairs are sorted: all of them once asked
}

// pair is a child's key and its parent's; parent 0: dropped.
type pair struct{ child, parent uint64 }

// Set records the parent of child (during the read).
func (p *Index) Set(child, parent uint64) {
	p.pairs = append(p.pairs, pair{child, parent})
}

// sort orders the pairs by child, the last set of a child kept last.
func (p *Index) sort() {
	if p.sorted == len(p.pairs) {
		return
	}
	slices.SortStableFunc(p.pairs, func(a, b pair) int { return cmp.Compare(a.child, b.child) })
	p.sorted = len(p.pairs)
}

// find returns the position of child's last pair, -1 when it has none.
func (p *Index) find(child uint64) int {
	p.sort()
	i, ok := slices.BinarySearchFunc(p.pairs, child, func(e pair, k uint64) int { return cmp.Compare(e.child, k) })
	if !ok {
		return -1
	}
	for i+1 < len(p.pairs) && p.pairs[i+1].child == child {
		i++
	}
	return i
}

// Get returns child's parent; ok is false when it has none (or it was
// dropped).
func (p *Index) Get(child uint64) (parent uint64, ok bool) {
	i := p.find(child)
	if i < 0 || p.pairs[i].parent == 0 {
		return 0, false
	}
	return p.pairs[i].parent, true
}

// Drop forgets child's parent (a row taken back).
func (p *Index) Drop(child uint64) {
	if i := p.find(child); i >= 0 {
		p.pairs[i].parent = 0
	}
}

// Clear forgets every pair: nothing asks the index again.
func (p *Index) Clear() { p.pairs, p.sorted = nil, 0 }

// Len is at most the number of children with a parent.
func (p *Index) Len() int { return len(p.pairs) }

// Parents yields the parent of each child (the last set, not dropped).
func (p *Index) Parents() iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		p.sort()
		for i, e := range p.pairs {
			last := i+1 == len(p.pairs) || p.pairs[i+1].child != e.child
			if last && e.parent != 0 && !yield(e.parent) {
				return
			}
		}
	}
}
