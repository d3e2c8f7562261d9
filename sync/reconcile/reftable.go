package reconcile

import (
	"errors"
	"hash/maphash"
	"math"
	"slices"
)

// refTable numbers the references of an export 0, 1, 2… in the order
// they are first met, and finds a reference's number. It holds each
// reference once, its bytes end to end in the arena of its run of refRun
// references, and finds them by an open-addressing table of numbers:
// about 21 bytes a reference at a million (its bytes, 4 for where it
// ends, 8 in the table), where a map[string]int32 and a string per
// reference take about 70, twice that while the map grows. No array of
// the table but the slots grows by doubling, so none holds unused room
// in the millions (an arena of 36 MB did, up to as much again).
type refTable struct {
	seed  maphash.Seed
	runs  []*refRunOf
	n     int     // references held
	slots []int32 // i+1 of the reference that hashed there; 0: free
}

// refRunOf is the bytes of refRun references end to end, and where each
// ends.
type refRunOf struct {
	arena []byte
	ends  [refRun]uint32
}

// refRun is how many references share an arena: their bytes may take up
// to 4 GiB.
const refRun = 1 << 10

var errRefTooLong = errors.New("the references of the export take more than 4 GiB per thousand")

func newRefTable(seed maphash.Seed) *refTable {
	return &refTable{seed: seed, slots: make([]int32, 1<<10)}
}

// len is how many references the table holds.
func (t *refTable) len() int { return t.n }

// size is what the table takes: its arenas, their ends and its slots.
func (t *refTable) size() int64 {
	n := int64(len(t.slots)) * 4
	for _, r := range t.runs {
		n += int64(cap(r.arena)) + refRun*4
	}
	return n
}

// bytes returns reference i, in the arena's memory.
func (t *refTable) bytes(i int32) []byte {
	r, j := t.runs[i/refRun], i%refRun
	start := uint32(0)
	if j > 0 {
		start = r.ends[j-1]
	}
	return r.arena[start:r.ends[j]]
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
	if t.n >= math.MaxInt32-1 {
		return 0, false, errors.New("more than 2^31 references in the export")
	}
	j := t.n % refRun
	if j == 0 {
		room := 16 * refRun
		if k := len(t.runs); k > 0 {
			last := t.runs[k-1]
			if cap(last.arena) > len(last.arena)+len(last.arena)/8 {
				last.arena = slices.Clone(last.arena) // much unused: copied to its size
			}
			room = len(last.arena) + len(last.arena)/16
		}
		t.runs = append(t.runs, &refRunOf{arena: make([]byte, 0, room)})
	}
	r := t.runs[len(t.runs)-1]
	if len(r.arena)+len(ref) > math.MaxUint32 {
		return 0, false, errRefTooLong
	}
	r.arena = append(r.arena, ref...)
	r.ends[j] = uint32(len(r.arena))
	i = int32(t.n)
	t.n++
	t.slots[s] = i + 1
	if 2*t.n > len(t.slots) {
		t.rehash()
	}
	return i, true, nil
}

// rehash doubles the table, keeping it at most half full.
func (t *refTable) rehash() {
	t.slots = make([]int32, 2*len(t.slots))
	mask := len(t.slots) - 1
	for i := range int32(t.n) {
		// Bytes hashes as String does the same bytes.
		s := int(maphash.Bytes(t.seed, t.bytes(i))) & mask
		for t.slots[s] != 0 {
			s = (s + 1) & mask
		}
		t.slots[s] = i + 1
	}
}
