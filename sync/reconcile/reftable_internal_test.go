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

// The table holds no unused room in the millions: its references' bytes
// are runs of a thousand, each about its size (an arena grown by
// doubling held up to twice its bytes), where each ends 4 bytes.
func TestRefTable_NoRoomUnused(t *testing.T) {
	const n = 100_000
	tab := newRefTable(maphash.MakeSeed())
	used := 0
	for i := range n {
		ref := fmt.Sprintf("K%08d", i*7)
		used += len(ref)
		if _, _, err := tab.insert(ref); err != nil {
			t.Fatal(err)
		}
	}
	held := 0
	for _, r := range tab.runs {
		held += cap(r.arena) + 4*len(r.ends)
	}
	if want := used + 4*n + 4*refRun + used/8; held > want {
		t.Errorf("the references' %d bytes and ends take %d bytes, want at most %d", used, held, want)
	}
	for _, i := range []int32{0, refRun - 1, refRun, n - 1} {
		if got, want := tab.ref(i), fmt.Sprintf("K%08d", i*7); got != want {
			t.Errorf("reference %d is %q, want %q", i, got, want)
		}
	}
}
