package plan

import (
	"errors"
	"strings"
	"testing"

	"erpsync/mapping"
)

// TestPlanner_UnknownRowsBounded: the rows without a usable reference
// are counted, and only their first lines kept (a .gz of 10M rows with
// an empty reference kept every line: some 160 MB); the held deletes'
// reason still counts them all.
func TestPlanner_UnknownRowsBounded(t *testing.T) {
	pl := &planner{plan: &Plan{}, opt: Options{MaxErrors: 1}}
	for i := range 1000 {
		if err := pl.invalid(&mapping.RowError{Line: 2 + i, Err: errors.New("the reference is empty")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(pl.unknown); n > 5 {
		t.Errorf("%d lines kept of the rows without a usable reference, want 5", n)
	}
	if why := pl.heldWhy(); !strings.Contains(why, "1000 rows without a usable reference (line 2, 3, 4, 5, 6 and 995 more)") {
		t.Errorf("held: %q, want 1000 rows counted, the first 5 lines named", why)
	}
	if pl.absentReason() != ReasonAbsentHeld {
		t.Errorf("absent reason %q, want held", pl.absentReason())
	}
}
