package reconcile

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// The reference table numbers references in the order first met, finds
// each again after the table has grown many times, and finds no other.
func TestRefTable_NumbersAndFinds(t *testing.T) {
	const n = 5000
	tab := newRefTable(maphash.MakeSeed())
	for i := range n {
		got, added, err := tab.insert(fmt.Sprintf("R%d", i))
		if err != nil || !added || got != int32(i) {
			t.Fatalf("insert R%d: %d, %v; want %d, true", i, got, added, i)
		}
	}
	if got, added, _ := tab.insert("R17"); added || got != 17 {
		t.Errorf("insert R17 again: %d, %v; want 17, false", got, added)
	}
	for i := range n {
		ref := fmt.Sprintf("R%d", i)
		if got, ok := tab.lookup(ref); !ok || got != int32(i) || tab.ref(got) != ref {
			t.Fatalf("lookup %s: %d, %v", ref, got, ok)
		}
	}
	for _, ref := range []string{"", "R", "R5000", "r1", "R01"} {
		if got, ok := tab.lookup(ref); ok {
			t.Errorf("lookup %q: found %d", ref, got)
		}
	}
	if tab.len() != n {
		t.Errorf("len %d, want %d", tab.len(), n)
	}
}
