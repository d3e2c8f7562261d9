package history_test

import (
	"errors"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/history"
	"erpsync/sync/plan"
)

// TestRecorder_OnlyWhatChanged: the recorder keeps one event per write
// answered (created with its fields, updated old → new, refused with the
// CRM's answer), none for an action not sent, and drift before the
// writes, with the policy; a hand delete is its own kind.
func TestRecorder_OnlyWhatChanged(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	drift := []plan.Drift{
		{Reference: "C-2", Changes: []plan.Change{{Field: "creditLimit", Old: "12500", New: "11500"}}},
		{Reference: "C-5", Deleted: true},
		{Reference: "C-6", Changes: []plan.Change{{Field: "city", Old: "Lyon", New: "Paris"}}},
	}
	rec := history.NewRecorder(0, history.Run{ID: 7, File: "day2.csv", At: at, Drift: drift, Policy: "erp_wins"})
	evs := rec.Begin()
	c := &mapping.Customer{Reference: "C-1"}
	for _, res := range []apply.Result{
		{Action: &plan.Action{Op: plan.OpCreate, Reference: "C-1", Line: 5, Customer: c}},
		{Action: &plan.Action{Op: plan.OpUpdate, Reference: "C-2", Line: 6,
			Changes: []plan.Change{{Field: "creditLimit", Old: "12500", New: "11500"}}}},
		{Action: &plan.Action{Op: plan.OpUpdate, Reference: "C-3", Line: 7}, Err: errors.New("refused"),
			Status: 400, Code: "invalid_field", Message: "email is not valid"},
		{Action: &plan.Action{Op: plan.OpDelete, Reference: "C-4"}, NotSent: "not sent: guard"},
		{Action: &plan.Action{Op: plan.OpUpdate, Reference: "C-6", Line: 8}}, // a repair of drift
	} {
		evs = append(evs, rec.Event(res)...)
	}
	if dropped := rec.Dropped(); dropped != 0 {
		t.Errorf("dropped %d", dropped)
	}
	kinds := []string{}
	for _, e := range evs {
		if e.RunID != 7 || e.File != "day2.csv" || !e.At.Equal(at) {
			t.Errorf("event %+v: run, file or time", e)
		}
		kinds = append(kinds, e.Reference+":"+e.Kind)
	}
	want := []string{"C-2:drift", "C-5:deleted_by_hand", "C-6:drift", "C-1:created", "C-2:updated", "C-3:refused", "C-6:updated"}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Errorf("event %d = %s, want %s", i, kinds[i], want[i])
		}
	}
	if evs[0].Policy != "erp_wins" || evs[0].Changes[0] != (state.FieldChange{Field: "creditLimit", Old: "12500", New: "11500"}) {
		t.Errorf("drift = %+v", evs[0])
	}
	if evs[3].Line != 5 || evs[3].Op != "create" {
		t.Errorf("create = %+v", evs[3])
	}
	if evs[5].Status != 400 || evs[5].Answer != "invalid_field: email is not valid" {
		t.Errorf("refused = %+v", evs[5])
	}
	if len(evs[6].Changes) != 1 || evs[6].Changes[0] != (state.FieldChange{Field: "city", Old: "Lyon", New: "Paris"}) {
		t.Errorf("repair of drift = %+v, want the CRM's value → the ERP's", evs[6])
	}
}

// TestRecorder_InvalidRows: a row the run refused (a row error with a
// reference) is an event of that reference, with its line and why.
func TestRecorder_InvalidRows(t *testing.T) {
	rec := history.NewRecorder(0, history.Run{ID: 3, File: "day3.csv", RowErrors: []*mapping.RowError{
		{Line: 9, Column: "LAND1", Reference: "C-9", Err: errors.New("unknown country \"XX\"")},
		{Line: 10, Err: errors.New("no reference")}, // no reference: no customer's history
	}})
	evs := rec.Begin()
	if len(evs) != 1 || evs[0].Reference != "C-9" || evs[0].Kind != state.EventInvalidRow || evs[0].Line != 9 ||
		evs[0].Answer != "column LAND1: unknown country \"XX\"" {
		t.Errorf("events = %+v", evs)
	}
}

// TestRecorder_Bounded: past its bound, the recorder counts the writes
// it makes no event of.
func TestRecorder_Bounded(t *testing.T) {
	rec := history.NewRecorder(2, history.Run{ID: 1})
	var evs []state.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, rec.Event(apply.Result{Action: &plan.Action{Op: plan.OpUpdate, Reference: "C"}})...)
	}
	if dropped := rec.Dropped(); len(evs) != 2 || dropped != 3 {
		t.Errorf("kept %d, dropped %d; want 2, 3", len(evs), dropped)
	}
	var nilRec *history.Recorder
	if evs := nilRec.Event(apply.Result{Action: &plan.Action{Op: plan.OpUpdate, Reference: "C"}}); evs != nil { // history off: none
		t.Errorf("a nil recorder made %+v", evs)
	}
}
