package reconcile

import (
	"testing"
	"unsafe"
)

// TestPendingRows: a record to compare takes 16 bytes; the last noted of
// an entry stands; each is found once.
func TestPendingRows(t *testing.T) {
	if size := unsafe.Sizeof(pendingRow{}); size != 16 {
		t.Errorf("a pending row takes %d bytes, want 16", size)
	}
	var p pendingRows
	p.add(7, 1, 700)
	p.add(3, 2, 300)
	p.add(7, 3, 701) // the same entry again: this one stands
	p.add(5, 0, 500)
	p.seal()
	if p.left != 3 {
		t.Fatalf("%d left, want 3", p.left)
	}
	r := p.find(7)
	if r == nil || r.off != 701 || r.cur != 3 {
		t.Fatalf("entry 7: %+v, want the last noted (701, currency 3)", r)
	}
	p.markDone(r)
	if p.find(7) != nil || p.find(4) != nil || p.left != 2 {
		t.Errorf("entry 7 found again, or entry 4 found, or %d left (want 2)", p.left)
	}
	if r := p.find(3); r == nil || r.off != 300 {
		t.Errorf("entry 3: %+v", r)
	}
}
