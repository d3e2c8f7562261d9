package sync_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/sync/history"
	"erpsync/sync/plan/policy"
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
	c.job.Settings.Deletes, c.job.Settings.History = policy.DeletesDeactivate, time.Hour
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
	if _, evs := c.story(t, "C2"); len(evs) != 3 || evs[0].Kind != state.EventReactivated || evs[1].Kind != state.EventDeactivated {
		t.Errorf("C2's events after its row came back: %+v; want created, deactivated, reactivated", evs)
	}
}

// TestHistory_PolicyCRMFieldNotDrift (issue 24 §2, with sync.fields): a
// hand edit of a field the CRM owns (phone: crm) is no drift by policy:
// the history records no drift of it, alone or beside a drifted field
// of erp's, and the repair of that one lists it alone.
func TestHistory_PolicyCRMFieldNotDrift(t *testing.T) {
	c := newPolicyJob(t, policy.Fields{"phone": policy.CRM})
	c.job.Settings.History = time.Hour
	const header = "reference;name;email;phone"
	rows := []string{header, "C1;One;;111", "C2;Two;;222"}
	if _, err := c.run(t, rows...); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.handEdit(t, "C1", "phone", "999")
	c.handEdit(t, "C2", "phone", "888")
	c.handEdit(t, "C2", "name", "Two by hand")
	if _, err := c.run(t, rows...); err != nil {
		t.Fatalf("day 2: %v", err)
	}
	if text, evs := c.story(t, "C1"); len(evs) != 1 || evs[0].Kind != state.EventCreated {
		t.Errorf("C1 (its phone, the CRM's, edited by hand): events %+v, want its create alone:\n%s", evs, text)
	}
	text, evs := c.story(t, "C2")
	for _, e := range evs {
		for _, ch := range e.Changes {
			if e.RunID == 2 && ch.Field == "phone" {
				t.Errorf("C2's %s of run 2 lists the phone (the CRM's): %+v", e.Kind, e)
			}
		}
	}
	if len(evs) != 3 || evs[0].Kind != state.EventUpdated || evs[1].Kind != state.EventDrift ||
		len(evs[1].Changes) != 1 || evs[1].Changes[0] != (state.FieldChange{Field: "name", Old: "Two by hand", New: "Two"}) {
		t.Errorf("C2: events %+v; want its name's drift (Two by hand, pushed Two) and its repair:\n%s", evs, text)
	}
	if got := c.field(t, "C2", "phone"); got != "888" {
		t.Errorf("C2's phone %q after the repair, want the hand edit 888", got)
	}
}
