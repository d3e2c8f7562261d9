package reconcile

import (
	"errors"
	"hash/maphash"
	"math"
)

// refTable numbers the references of an export 0, 1, 2… in the order
// they are first met, and finds a reference's number. It holds each
// reference once, its bytes end to end in one arena, and finds them by an
// open-addressing table of numbers: about 20 bytes a reference at a
// million, where a map[string]int32 and a string per reference take
// about 70, twice that while the map grows. Where a reference ends takes
// 4 bytes: its offset from the start of its run of refRun references.
type refTable struct {
	seed  maphash.Seed
	arena []byte
	ends  []uint32 // ends[i]: where reference i ends, from bases[i/refRun]
	bases []int    // where each run of refRun references starts in the arena
	slots []int32  // i+1 of the reference that hashed there; 0: free
}

// refRun is how many references share a base: their bytes may take up
// to 4 GiB.
const refRun = 1 << 10

var errRefTooLong = errors.New("the references of the export take more than 4 GiB per thousand")

func newRefTable(seed maphash.Seed) *refTable {
	return &refTable{seed: seed, slots: make([]int32, 1<<10)}
}

// len is how many references the table holds.
func (t *refTable) len() int { return len(t.ends) }

// end returns where reference i ends in the arena.
func (t *refTable) end(i int32) int { return t.bases[i/refRun] + int(t.ends[i]) }

// bytes returns reference i, in the arena's memory.
func (t *refTable) bytes(i int32) []byte {
	start := t.bases[i/refRun]
	if i%refRun > 0 {
		start = t.end(i - 1)
	}
	return t.arena[start:t.end(i)]
}

// ref returns reference i as a string of its own.
func (t *refTable) ref(i int32) string { return string(t.bytes(i)) }

// slot returns where ref is, or the free slot where it would go.
func (t *refTable) slot(ref string) int {
	mask := len(t.slots) - 1
	s := int(maphash.String(t.seed, ref)) & mask
	for {
		v := t.slots[s]
		if v == 0 || string(t.bytes(v-1)) == ref {
			return s
		}
		s = (s + 1) & mask
	}
}

// lookup returns the number of ref.
func (t *refTable) lookup(ref string) (int32, bool) {
	v := t.slots[t.slot(ref)]
	return v - 1, v != 0
}

// insert returns the number of ref, numbering it when it is new (added).
func (t *refTable) insert(ref string) (i int32, added bool, err error) {
	s := t.slot(ref)
	if v := t.slots[s]; v != 0 {
		return v - 1, false, nil
	}
	if len(t.ends) >= math.MaxInt32-1 {
		return 0, false, errors.New("more than 2^31 references in the export")
	}
	if len(t.ends)%refRun == 0 {
		t.bases = append(t.bases, len(t.arena))
	}
	base := t.bases[len(t.bases)-1]
	if len(t.arena)+len(ref)-base > math.MaxUint32 {
		return 0, false, errRefTooLong
	}
	t.arena = append(t.arena, ref...)
	t.ends = append(t.ends, uint32(len(t.arena)-base))
	i = int32(len(t.ends) - 1)
	t.slots[s] = i + 1
	if 2*len(t.ends) > len(t.slots) {
		t.rehash()
	}
	return i, true, nil
}

// rehash doubles the table, keeping it at most half full.
func (t *refTable) rehash() {
	t.slots = make([]int32, 2*len(t.slots))
	mask := len(t.slots) - 1
	for i := range int32(len(t.ends)) {
		// Bytes hashes as String does the same bytes.
		s := int(maphash.Bytes(t.seed, t.bytes(i))) & mask
		for t.slots[s] != 0 {
			s = (s + 1) & mask
		}
		t.slots[s] = i + 1
	}
}
