package plan

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// The sizes the lean plan is built on: an Action in the 112-byte size
// class (a million are planned), a lean row of 32 bytes with no pointer.
func TestLeanPlan_Sizes(t *testing.T) {
	if got := unsafe.Sizeof(Action{}); got != 112 {
		t.Errorf("an Action is %d bytes, want 112", got)
	}
	if got := unsafe.Sizeof(leanRow{}); got != 32 {
		t.Errorf("a lean row is %d bytes, want 32", got)
	}
}

// A lean plan gives back each action as it was planned, in the order of
// its waves, long strings included; the planned Actions are dropped.
func TestLeanPlan_RoundTrip(t *testing.T) {
	long := strings.Repeat("x", spanLong+1)
	act := func(op Op, ref string, line int, reason, parent string, hash uint64) *Action {
		a := &Action{Op: op, Reference: ref, Line: line, Reason: reason, Parent: parent}
		a.end.Store(hash)
		return a
	}
	want := [][]*Action{
		{act(OpCreate, "A", 2, ReasonNew, "", 0x10), act(OpUpdate, "P", 5, ReasonChanged, "", 0x20)},
		{act(OpCreate, "C", 3, ReasonNew, "P", 0x30), act(OpUpdate, long, 9, ReasonRetry, long, 0x40)},
		{},
		{act(OpCreate, "", 11, ReasonDrift, "C", 0)},
	}
	waves := make([][]*Action, len(want))
	for i, w := range want {
		waves[i] = append([]*Action{}, w...)
	}
	lp := newLeanPlan(waves, nil, &leanStrings{})
	for _, w := range waves {
		for _, a := range w {
			if a != nil {
				t.Fatalf("newLeanPlan kept the Action of %s", a.Reference)
			}
		}
	}
	if len(lp.long) != 2 || lp.text.Len() != len("APCP")+len("C") {
		t.Errorf("text %q, %d long strings; want APCPC and 2", lp.text.String(), len(lp.long))
	}
	for i, w := range want {
		start, end := lp.wave(i)
		if end-start != len(w) {
			t.Fatalf("wave %d holds %d rows, want %d", i, end-start, len(w))
		}
		for j, a := range w {
			got := lp.action(start + j)
			if got.Op != a.Op || got.Reference != a.Reference || got.Line != a.Line || got.Reason != a.Reason ||
				got.Parent != a.Parent || got.rowHash() != a.rowHash() || got.Customer != nil {
				t.Errorf("wave %d row %d = %+v, want %+v", i, j, got, a)
			}
		}
	}
	if lp.count(OpCreate) != 3 || lp.count(OpUpdate) != 2 || lp.count(OpDelete) != 0 {
		t.Errorf("counts %d %d %d, want 3 2 0", lp.count(OpCreate), lp.count(OpUpdate), lp.count(OpDelete))
	}
}

// A row's end is told once: through any Action made of it, and it stays
// told when that Action is gone.
func TestLeanPlan_Settle(t *testing.T) {
	a := &Action{Op: OpCreate, Reference: "A", Line: 2, Reason: ReasonNew}
	a.end.Store(0x10)
	lp := newLeanPlan([][]*Action{{a}}, nil, &leanStrings{})
	first := lp.action(0)
	lp.rows[0].settleFrom(first) // not told yet
	if lp.settled(0) {
		t.Fatal("settled before its Action was")
	}
	if first.Settle() {
		t.Fatal("a new Action was already settled")
	}
	lp.rows[0].settleFrom(first)
	if !lp.settled(0) {
		t.Fatal("the row did not keep its Action's end")
	}
	if again := lp.action(0); again.rowHash() != 0x10 {
		t.Errorf("made again: hash %x, want 10", again.rowHash())
	}
	var none *leanRow
	none.settleFrom(first) // an action of a plan that is not lean
}

// Drafts go to the first wave, in the order of the lines with its
// Actions, those taken back left out; a plan of drafts alone has one
// wave, and a plan of dropped drafts alone none.
func TestLeanPlan_Drafts(t *testing.T) {
	long := strings.Repeat("y", spanLong)
	var ls leanStrings
	draft := func(ref string, line int32, dropped bool) draftRow {
		return draftRow{end: uint64(line) << 8, ref: ls.put(ref), line: line, reason: ls.code(ReasonNew), dropped: dropped}
	}
	drafts := []draftRow{draft("A", 2, false), draft("B", 4, true), draft(long, 5, false), draft("D", 9, false)}
	if ls.str(drafts[0].ref) != "A" || ls.str(drafts[2].ref) != long {
		t.Fatal("a draft's reference is not read back while the plan is made")
	}
	up := &Action{Op: OpUpdate, Reference: "U", Line: 3, Reason: ReasonChanged}
	child := &Action{Op: OpCreate, Reference: "C", Line: 1, Reason: ReasonNew, Parent: "A"}
	lp := newLeanPlan([][]*Action{{up}, {child}}, drafts, &ls)
	var got []string
	for i := range lp.rows {
		a := lp.action(i)
		got = append(got, fmt.Sprintf("%s %s %d %s %x", a.Op, a.Reference[:1], a.Line, a.Parent, a.rowHash()))
	}
	want := []string{"create A 2  200", "update U 3  0", "create y 5  500", "create D 9  900", "create C 1 A 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(lp.waves) != "[4 5]" {
		t.Errorf("rows %q waves %v; want %q and [4 5]", got, lp.waves, want)
	}
	if lp.action(2).Reference != long {
		t.Error("the long reference is not read back")
	}
	var ls2 leanStrings
	only := newLeanPlan(nil, []draftRow{{ref: ls2.put("Z"), line: 7}}, &ls2)
	if len(only.waves) != 1 || only.action(0).Reference != "Z" {
		t.Errorf("a plan of one draft: waves %v", only.waves)
	}
	if none := newLeanPlan(nil, []draftRow{{line: 7, dropped: true}}, &leanStrings{}); len(none.waves) != 0 || len(none.rows) != 0 {
		t.Errorf("a plan of a dropped draft: waves %v, %d rows", none.waves, len(none.rows))
	}
}
