package rowerrors_test

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"erpsync/mapping"
	"erpsync/sync/plan/rowerrors"
)

// TestSet_KeepsFirstCountsAll: the first max errors are kept whole, each
// with its own copy of the reference (not the line it was cut from);
// every one is counted by its kind, numbers and quoted values elided.
func TestSet_KeepsFirstCountsAll(t *testing.T) {
	line := strings.Repeat("K", 1000) + ";rest of a long line"
	s := rowerrors.New(2)
	for i := range 5 {
		s.Add(&mapping.RowError{Line: i + 1, Column: "KLIMK", Reference: line[:1000], Err: errors.New(`bad number "12,5x" at 3`)})
	}
	kept := s.Kept()
	if len(kept) != 2 || s.Omitted() != 3 {
		t.Fatalf("kept %d, omitted %d; want 2, 3", len(kept), s.Omitted())
	}
	if kept[0].Reference != line[:1000] || unsafe.StringData(kept[0].Reference) == unsafe.StringData(line) {
		t.Error("a kept error shares its reference with the line it was cut from")
	}
	kinds := s.Kinds()
	if len(kinds) != 1 || kinds[0].Kind != `KLIMK: bad number "…" at N` || kinds[0].Count != 5 || kinds[0].Listed != 2 ||
		len(kinds[0].Lines) != 3 {
		t.Errorf("kinds %+v", kinds)
	}
	if got := rowerrors.Text(kept[0]); got != `bad number "12,5x" at 3` {
		t.Errorf("Text = %q", got)
	}
	if cut := rowerrors.CutCell(strings.Repeat("é", 200)); len(cut) > 256+len("…") || !strings.HasSuffix(cut, "…") {
		t.Errorf("CutCell gave %d bytes", len(cut))
	}
}
