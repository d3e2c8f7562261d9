package history

import (
	"strings"
	"testing"

	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/plan"
)

// TestRecorder_FieldBytesBounded: past its bytes of field values, the
// recorder keeps each write's event without its fields.
func TestRecorder_FieldBytesBounded(t *testing.T) {
	r := NewRecorder(0, Run{ID: 1})
	r.maxBytes = 1000
	big := strings.Repeat("x", 600)
	var evs []state.Event
	for range 3 {
		evs = append(evs, r.Event(apply.Result{Action: &plan.Action{Op: plan.OpUpdate, Reference: "C", Line: 2,
			Changes: []plan.Change{{Field: "name", Old: "a", New: big}}}})...)
	}
	if len(evs) != 3 || len(evs[0].Changes) != 1 || len(evs[1].Changes) != 1 || len(evs[2].Changes) != 0 || evs[2].Line != 2 {
		t.Errorf("events: %d, fields kept %d %d %d", len(evs), len(evs[0].Changes), len(evs[1].Changes), len(evs[2].Changes))
	}
}
