package sync_test

import (
	"testing"

	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
)

// deactivatedC2 runs day 1 (C1, C2) then day 2 without C2 under
// deletes: deactivate: C2 is left inactive in the CRM.
func deactivatedC2(t *testing.T, policies policy.Fields) *csvJob {
	t.Helper()
	c := newPolicyJob(t, policies)
	c.job.Settings.Deletes = policy.DeletesDeactivate
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1", "C2;Two;two@erp.example;2"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1"); err != nil {
		t.Fatalf("day 2: %v", err)
	}
	if got, ok := c.store.ByReference("C2"); !ok || got.IsActive {
		t.Fatalf("C2 after day 2: in the CRM %v, active %v; want true, false", ok, got.IsActive)
	}
	return c
}

// TestRun_ReactivateKeepsCRMOwnedField (issue 23 §2, data safety): with
// email: crm, an email edited by hand in the CRM survives its customer's
// deactivation and return: the return is a reactivation (an update under
// the policies, isActive=true), not a create sending every field.
func TestRun_ReactivateKeepsCRMOwnedField(t *testing.T) {
	c := newPolicyJob(t, policy.Fields{"email": policy.CRM})
	c.job.Settings.Deletes = policy.DeletesDeactivate
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1", "C2;Two;two@erp.example;2"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.handEdit(t, "C2", "email", "rep@hand.example")
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1"); err != nil {
		t.Fatalf("day 2: %v", err)
	}
	out, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1", "C2;Two;two@erp.example;2")
	if err != nil {
		t.Fatalf("day 3: %v", err)
	}
	got, _ := c.store.ByReference("C2")
	if !got.IsActive || c.field(t, "C2", "email") != "rep@hand.example" {
		t.Errorf("C2 back: active %v, email %q; want true, rep@hand.example (the CRM's)", got.IsActive, c.field(t, "C2", "email"))
	}
	if n, u := out.Plan.Count(plan.OpCreate), out.Plan.Count(plan.OpUpdate); n != 0 || u != 1 {
		t.Errorf("day 3 plan: %d creates, %d updates; want 0, 1 (a reactivation)", n, u)
	}
	again, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1", "C2;Two;two@erp.example;2")
	if err != nil || again.Plan.Len() != 0 || c.field(t, "C2", "email") != "rep@hand.example" {
		t.Errorf("day 3 again: %v, %d planned, email %q; want managed again: nothing planned, the CRM's email", err, again.Plan.Len(), c.field(t, "C2", "email"))
	}
}

// TestRun_UpdateOnlyReactivates (issue 23 §2): under update_only, a
// deactivated customer whose row comes back is reactivated (it is an
// update of a customer the CRM holds), not skipped as new.
func TestRun_UpdateOnlyReactivates(t *testing.T) {
	c := deactivatedC2(t, nil)
	c.job.Settings.Mode = policy.ModeUpdateOnly
	out, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1", "C2;Two;two@erp.example;2")
	if err != nil {
		t.Fatalf("day 3: %v", err)
	}
	if got, _ := c.store.ByReference("C2"); !got.IsActive || out.Plan.SkippedCount != 0 {
		t.Errorf("C2 back under update_only: active %v, %d skipped; want true, 0", got.IsActive, out.Plan.SkippedCount)
	}
}

// TestRun_ReactivationIsNoCreate (issue 23 §3): a returning deactivated
// customer does not count for max_create.
func TestRun_ReactivationIsNoCreate(t *testing.T) {
	c := deactivatedC2(t, nil)
	c.job.Settings.Guards.MaxCreate = guard.Optional{Limit: plan.Limit{Count: 0}, Set: true}
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@erp.example;1", "C2;Two;two@erp.example;2"); err != nil {
		t.Fatalf("day 3 with max_create: 0: %v", err)
	}
	if got, _ := c.store.ByReference("C2"); !got.IsActive {
		t.Error("C2 back: still inactive")
	}
}
