package sync_test

import (
	"testing"
	"time"

	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
)

// TestHistory_GuardStoppedRunKeepsItsFinds (issue 24 §2): a run a guard
// stopped before its apply wrote nothing, yet its history keeps the
// drift it found (saved at its end, not with outcomes: it has none), and
// no write; the run that goes through keeps its own drift, then the
// repair and the delete, with its outcomes.
func TestHistory_GuardStoppedRunKeepsItsFinds(t *testing.T) {
	c := newPolicyJob(t, nil)
	c.job.Settings.History = time.Hour
	const header = "reference;name;email;phone"
	if _, err := c.run(t, header, "C1;One;;1", "C2;Two;;2"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.handEdit(t, "C1", "name", "One by hand")
	c.job.Settings.MaxDelete = guard.On(plan.Limit{Count: 0}) // C2's delete trips max_delete
	if _, err := c.run(t, header, "C1;One;;1"); sync.Classify(err) != sync.ClassGuard {
		t.Fatalf("day 2: %v, want a guard", err)
	}
	text, evs := c.story(t, "C1")
	if len(evs) != 2 || evs[0].Kind != state.EventDrift || evs[0].RunID != 2 || evs[1].Kind != state.EventCreated {
		t.Errorf("C1 after the guard: %+v, want run 2's drift over its create:\n%s", evs, text)
	}
	if _, evs := c.story(t, "C2"); len(evs) != 1 {
		t.Errorf("C2 after the guard: %+v, want its create alone", evs)
	}
	c.job.Settings.MaxDelete = guard.On(plan.Limit{Percent: 100, IsPercent: true})
	if _, err := c.run(t, header, "C1;One;;1"); err != nil {
		t.Fatalf("day 3: %v", err)
	}
	text, evs = c.story(t, "C1")
	if len(evs) != 4 || evs[0].Kind != state.EventUpdated || evs[0].RunID != 3 || evs[1].Kind != state.EventDrift || evs[1].RunID != 3 ||
		len(evs[0].Changes) != 1 || evs[0].Changes[0] != (state.FieldChange{Field: "name", Old: "One by hand", New: "One"}) {
		t.Errorf("C1 after day 3: %+v, want run 3's drift and its repair (One by hand → One):\n%s", evs, text)
	}
	if _, evs := c.story(t, "C2"); len(evs) != 2 || evs[0].Kind != state.EventDeleted || evs[0].RunID != 3 {
		t.Errorf("C2 after day 3: %+v, want run 3's delete", evs)
	}
}
