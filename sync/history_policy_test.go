package sync_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/sync/history"
	"erpsync/sync/plan"
)

// story returns what `why ref` shows of the job's checkpoint, and its
// events.
func (c *csvJob) story(t *testing.T, ref string) (string, []state.Event) {
	t.Helper()
	src, ok := c.job.State.(history.Source)
	if !ok {
		t.Fatalf("checkpoint %T: not what why reads", c.job.State)
	}
	s, err := history.Read(context.Background(), src, ref)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String(), s.Events
}

// TestHistory_Deactivated (issue 24 §2, with sync.deletes: deactivate):
// a customer whose row was removed is deactivated, not deleted: its
// history says "deactivated" (isActive true → false), never "deleted"
// or "updated"; its return is a create (isActive sent true), after it.
func TestHistory_Deactivated(t *testing.T) {
	c := newPolicyJob(t, nil)
	c.job.Settings.Deletes, c.job.Settings.History = plan.DeletesDeactivate, time.Hour
	const header = "reference;name;email;phone"
	if _, err := c.run(t, header, "C1;One;;1", "C2;Two;;2"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	if _, err := c.run(t, header, "C1;One;;1"); err != nil {
		t.Fatalf("day 2: %v", err)
	}
	if got, ok := c.store.ByReference("C2"); !ok || got.IsActive {
		t.Fatalf("C2 in the CRM %v, active %v; want deactivated", ok, ok && got.IsActive)
	}
	text, evs := c.story(t, "C2")
	if len(evs) != 2 || evs[0].Kind != state.EventDeactivated || evs[1].Kind != state.EventCreated {
		t.Fatalf("C2's events %+v, want deactivated then created (newest first):\n%s", evs, text)
	}
	if evs[0].Op != "deactivate" || len(evs[0].Changes) != 1 ||
		evs[0].Changes[0] != (state.FieldChange{Field: "isActive", Old: "true", New: "false"}) {
		t.Errorf("deactivation %+v, want op deactivate, isActive true → false", evs[0])
	}
	if !strings.Contains(text, "run 2 deactivated") || strings.Contains(text, "deleted") || strings.Contains(text, "updated") {
		t.Errorf("why C2:\n%s\nwant run 2 deactivated, nothing deleted or updated", text)
	}
	if _, err := c.run(t, header, "C1;One;;1", "C2;Two;;2"); err != nil {
		t.Fatalf("day 3: %v", err)
	}
	if _, evs := c.story(t, "C2"); len(evs) != 3 || evs[0].Kind != state.EventCreated || evs[1].Kind != state.EventDeactivated {
		t.Errorf("C2's events after its row came back: %+v; want created, deactivated, created", evs)
	}
}
