package parents_test

import (
	"slices"
	"testing"

	"erpsync/sync/plan/parents"
)

// TestIndex answers as a map of child → parent would: the last parent
// set of a child wins, a dropped child has none, Parents yields one
// parent per child left.
func TestIndex(t *testing.T) {
	var ix parents.Index
	for _, p := range [][2]uint64{{5, 1}, {3, 1}, {9, 2}, {3, 4}, {7, 9}} {
		ix.Set(p[0], p[1])
	}
	ix.Drop(9)
	ix.Drop(42) // never set
	for _, c := range []struct{ child, parent uint64 }{{5, 1}, {3, 4}, {9, 0}, {7, 9}, {1, 0}, {42, 0}} {
		got, ok := ix.Get(c.child)
		if got != c.parent || ok != (c.parent != 0) {
			t.Errorf("Get(%d) = %d, %v; want %d", c.child, got, ok, c.parent)
		}
	}
	if got := slices.Sorted(ix.Parents()); !slices.Equal(got, []uint64{1, 4, 9}) {
		t.Errorf("Parents() = %v, want [1 4 9]", got)
	}
	ix.Set(9, 3) // set after the first question: sorted again
	if got, ok := ix.Get(9); got != 3 || !ok {
		t.Errorf("Get(9) after Set = %d, %v; want 3", got, ok)
	}
	if ix.Clear(); ix.Len() != 0 {
		t.Errorf("Len() after Clear = %d", ix.Len())
	}
}
