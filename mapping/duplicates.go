package mapping

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
)

// Duplicates finds references that an export holds more than once with
// differing values. It keeps 16 bytes per reference seen once; the full
// reference and its lines only for those seen again.
type Duplicates struct {
	seed  maphash.Seed
	first map[uint64]dupFirst
	again map[string]*dupAgain
}

type dupFirst struct {
	hash uint64 // of the row's content
	line int32
}

type dupAgain struct {
	lines  []int
	differ bool
}

// NewDuplicates returns an empty tracker.
func NewDuplicates() *Duplicates {
	return &Duplicates{seed: maphash.MakeSeed(), first: map[uint64]dupFirst{}, again: map[string]*dupAgain{}}
}

// Add records a row of a reference with its content hash.
func (d *Duplicates) Add(ref string, line int, hash string) {
	k := maphash.String(d.seed, ref)
	h := contentKey(hash)
	f, seen := d.first[k]
	if !seen {
		d.first[k] = dupFirst{hash: h, line: int32(line)}
		return
	}
	a := d.again[ref]
	if a == nil {
		// A 64-bit key may collide: the first row's reference is not kept,
		// so a collision would show as a duplicate of this one. With fewer
		// than 2^20 rows that is about one chance in 10^7.
		a = &dupAgain{lines: []int{int(f.line)}}
		d.again[ref] = a
	}
	a.lines = append(a.lines, line)
	if h != f.hash {
		a.differ = true
	}
}

// Conflicts returns the references seen with differing rows, and all
// their lines.
func (d *Duplicates) Conflicts() map[string][]int {
	out := map[string][]int{}
	for ref, a := range d.again {
		if a.differ {
			out[ref] = slices.Clone(a.lines)
		}
	}
	return out
}

func contentKey(hash string) uint64 {
	if len(hash) > 16 {
		hash = hash[:16]
	}
	v, _ := strconv.ParseUint(hash, 16, 64)
	return v
}

// DuplicateError is the row error of a reference found on several lines
// with differing values; it names all the lines.
func DuplicateError(file, ref string, lines []int) *RowError {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = strconv.Itoa(l)
	}
	return &RowError{File: file, Line: lines[0], Column: "reference", Reference: ref,
		Err: fmt.Errorf("reference %q appears with differing values on lines %s", ref, strings.Join(s, ", "))}
}
