package sync_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"erpsync/mapping"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
	"erpsync/sync/report"
)

// newPolicyJob is a csvJob mapping reference, name, email and phone,
// whose fields follow policies (sync.fields): in the mapping's
// fingerprint and in the plan, as the config's loader sets them.
func newPolicyJob(t *testing.T, policies policy.Fields) *csvJob {
	t.Helper()
	cfg := mapping.DefaultConfig()
	cfg.Delimiter = ";"
	cfg.Columns = mapping.ColumnMap{"reference": "reference", "name": "name", "email": "email", "phone": "phone"}
	if p := policies.Declared(); len(p) > 0 {
		cfg.Policies = p
	}
	c := newCSVJobWith(t, testrig.Memory, cfg, crmsim.Options{})
	c.job.Settings.Fields, c.job.Settings.Drift = policies, policy.DriftERPWins // the config's default
	return c
}

// field returns a customer's value of a field as crmsim stores it.
func (c *csvJob) field(t *testing.T, ref, field string) string {
	t.Helper()
	got, ok := c.store.ByReference(ref)
	if !ok {
		t.Fatalf("%s is not in the CRM", ref)
	}
	switch field {
	case "email":
		return deref(got.Email)
	case "phone":
		return deref(got.Phone)
	case "name":
		return got.Name
	}
	t.Fatalf("field %s: not read by this test", field)
	return ""
}

// handEdit changes one field of a customer in the CRM, as a user would.
func (c *csvJob) handEdit(t *testing.T, ref, field, value string) {
	t.Helper()
	if _, err := c.store.Put(ref, map[string]string{field: value}); err != nil {
		t.Fatal(err)
	}
}

// upserts counts the upserts crmsim took so far.
func (c *csvJob) upserts() int64 { return c.sim.Stats()[crm.OpUpsert] }

// TestRun_PolicyCRMKeepsHandEditedPhone (issue 23 §1): with phone: crm, a
// phone edited by hand survives two runs, even when the ERP's phone
// changes, and is no drift; a new customer gets the ERP's phone.
func TestRun_PolicyCRMKeepsHandEditedPhone(t *testing.T) {
	c := newPolicyJob(t, policy.Fields{"phone": policy.CRM})
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@x.example;111"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.handEdit(t, "C1", "phone", "999")
	days := [][]string{
		{"reference;name;email;phone", "C1;One;one@x.example;222", "C2;Two;two@x.example;333"},
		{"reference;name;email;phone", "C1;One;one@x.example;222", "C2;Two;two@x.example;333"},
	}
	for i, lines := range days {
		before := c.upserts()
		out, err := c.run(t, lines...)
		if err != nil {
			t.Fatalf("run %d: %v", i+2, err)
		}
		if got := c.field(t, "C1", "phone"); got != "999" {
			t.Errorf("run %d: C1's phone %q, want the hand edit 999", i+2, got)
		}
		if len(out.Plan.Drift) != 0 {
			t.Errorf("run %d: drift %+v, want none (phone is the CRM's)", i+2, out.Plan.Drift)
		}
		want := int64(1) // C2's create, then nothing
		if i == 1 {
			want = 0
		}
		if sent := c.upserts() - before; sent != want {
			t.Errorf("run %d: %d upserts sent, want %d", i+2, sent, want)
		}
	}
	if got := c.field(t, "C2", "phone"); got != "333" {
		t.Errorf("new customer C2's phone %q, want the ERP's 333", got)
	}
}

// TestRun_PolicyKeepNeverClears (issue 23 §1): with email: keep, an
// empty cell leaves the CRM's email; the other fields of the row are
// sent, and a non-empty email is pushed as erp's.
func TestRun_PolicyKeepNeverClears(t *testing.T) {
	c := newPolicyJob(t, policy.Fields{"email": policy.Keep})
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@x.example;1", "C2;Two;two@x.example;2"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	if _, err := c.run(t, "reference;name;email;phone", "C1;One renamed;;1", "C2;Two;new@x.example;2"); err != nil {
		t.Fatalf("day 2: %v", err)
	}
	if got, name := c.field(t, "C1", "email"), c.field(t, "C1", "name"); got != "one@x.example" || name != "One renamed" {
		t.Errorf("C1: email %q, name %q; want one@x.example kept, One renamed", got, name)
	}
	if got := c.field(t, "C2", "email"); got != "new@x.example" {
		t.Errorf("C2: email %q, want new@x.example", got)
	}
	before := c.upserts()
	out, err := c.run(t, "reference;name;email;phone", "C1;One renamed;;1", "C2;Two;new@x.example;2")
	if err != nil {
		t.Fatalf("day 3: %v", err)
	}
	if sent := c.upserts() - before; sent != 0 || len(out.Plan.Drift) != 0 {
		t.Errorf("day 3: %d upserts, drift %+v; want 0, none", sent, out.Plan.Drift)
	}
}

// TestRun_PolicyFillOnlyEmpty (issue 23 §1): with email: fill, the
// ERP's email is sent only to customers whose CRM email is empty; one
// the CRM holds (edited by hand) stays, and is no drift.
func TestRun_PolicyFillOnlyEmpty(t *testing.T) {
	c := newPolicyJob(t, policy.Fields{"email": policy.Fill})
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;;1", "C2;Two;two@x.example;2"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.handEdit(t, "C2", "email", "hand@x.example")
	out, err := c.run(t, "reference;name;email;phone", "C1;One;one@x.example;1", "C2;Two;two2@x.example;2")
	if err != nil {
		t.Fatalf("day 2: %v", err)
	}
	if got := c.field(t, "C1", "email"); got != "one@x.example" {
		t.Errorf("C1 (empty in the CRM): email %q, want one@x.example filled", got)
	}
	if got := c.field(t, "C2", "email"); got != "hand@x.example" {
		t.Errorf("C2 (set in the CRM): email %q, want hand@x.example kept", got)
	}
	if len(out.Plan.Drift) != 0 {
		t.Errorf("drift %+v, want none", out.Plan.Drift)
	}
	c.handEdit(t, "C2", "email", "")
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;one@x.example;1", "C2;Two;two2@x.example;2"); err != nil {
		t.Fatalf("day 3: %v", err)
	}
	if got := c.field(t, "C2", "email"); got != "two2@x.example" {
		t.Errorf("C2 emptied by hand: email %q, want two2@x.example filled again", got)
	}
}

// TestRun_ModeUpdateOnly (issue 23 §2): update_only creates nothing; the
// new rows are listed as skipped, counted, in the report; a changed row
// is updated.
func TestRun_ModeUpdateOnly(t *testing.T) {
	c := newPolicyJob(t, nil)
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;;1"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.job.Settings.Mode = policy.ModeUpdateOnly
	out, err := c.run(t, "reference;name;email;phone", "C1;One changed;;1", "C2;Two;;2", "C3;Three;;3")
	if err != nil {
		t.Fatalf("day 2: %v", err)
	}
	if c.inCRM("C2") || c.inCRM("C3") {
		t.Error("update_only created a customer")
	}
	if got := c.field(t, "C1", "name"); got != "One changed" {
		t.Errorf("C1: name %q, want One changed", got)
	}
	p := out.Plan
	if p.SkippedCount != 2 || len(p.Skipped) != 2 || p.Skipped[0].Reference != "C2" || p.Skipped[0].Line != 3 {
		t.Errorf("plan skipped %d: %+v; want C2 (line 3), C3", p.SkippedCount, p.Skipped)
	}
	lines := reportRows[report.SkippedLine](t, out.Dir, "skipped.csv")
	if len(lines) != 2 || lines[0].Reference != "C2" || lines[0].Line != "3" || lines[1].Reference != "C3" {
		t.Errorf("skipped.csv: %+v; want C2 line 3, C3", lines)
	}
	if err := c.store.DeleteByReference("C1"); err != nil { // by hand: an upsert would create it again
		t.Fatal(err)
	}
	again, err := c.run(t, "reference;name;email;phone", "C1;One changed;;1")
	if err != nil {
		t.Fatalf("day 3: %v", err)
	}
	if c.inCRM("C1") || again.Plan.SkippedCount != 1 {
		t.Errorf("C1 deleted by hand: in the CRM again %v, %d skipped; want false, 1", c.inCRM("C1"), again.Plan.SkippedCount)
	}
	raw, err := os.ReadFile(filepath.Join(out.Dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum report.Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	if a := sum.Rows; a == nil || a.Skipped != 2 || a.Sent+a.Unchanged+a.Skipped != a.Read {
		t.Errorf("summary.json rows: %+v; want 2 skipped, and sent + unchanged + skipped = read", a)
	}
}

// TestRun_ModeCreateOnly (issue 23 §2): create_only updates nothing; a
// new row is created.
func TestRun_ModeCreateOnly(t *testing.T) {
	c := newPolicyJob(t, nil)
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;;1"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.job.Settings.Mode = policy.ModeCreateOnly
	out, err := c.run(t, "reference;name;email;phone", "C1;One changed;;1", "C2;Two;;2")
	if err != nil {
		t.Fatalf("day 2: %v", err)
	}
	if got := c.field(t, "C1", "name"); got != "One" {
		t.Errorf("C1: name %q, want One: create_only updated it", got)
	}
	if !c.inCRM("C2") {
		t.Error("C2 not created")
	}
	if n := out.Plan.Count(plan.OpUpdate); n != 0 || out.Plan.SkippedCount != 1 {
		t.Errorf("plan: %d updates, %d skipped; want 0, 1", n, out.Plan.SkippedCount)
	}
}

// TestRun_DeletesDeactivate (issue 23 §2): a removed row leaves the
// customer in the CRM with isActive=false (no DELETE sent), its copy
// kept; it comes back active when its row returns.
func TestRun_DeletesDeactivate(t *testing.T) {
	c := newPolicyJob(t, nil)
	c.job.Settings.Deletes = policy.DeletesDeactivate
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;;1", "C2;Two;;2"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	out, err := c.run(t, "reference;name;email;phone", "C1;One;;1")
	if err != nil {
		t.Fatalf("day 2: %v", err)
	}
	got, ok := c.store.ByReference("C2")
	if !ok || got.IsActive {
		t.Fatalf("C2 after its row was removed: in the CRM %v, active %v; want true, false", ok, got.IsActive)
	}
	if n := c.sim.Stats()[crm.OpDeleteByReference]; n != 0 {
		t.Errorf("%d DELETE requests, want 0", n)
	}
	if out.Plan.Count(plan.OpDelete) != 1 {
		t.Errorf("plan: %d deletes, want 1 (counted as a delete for max_delete)", out.Plan.Count(plan.OpDelete))
	}
	before := c.upserts()
	if out, err := c.run(t, "reference;name;email;phone", "C1;One;;1"); err != nil || c.upserts() != before || out.Plan.Len() != 0 {
		t.Errorf("day 2 again: %v, %d upserts; want nothing planned or sent", err, c.upserts()-before)
	}
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;;1", "C2;Two;;2"); err != nil {
		t.Fatalf("day 3: %v", err)
	}
	c.job.Settings.MaxDelete = guard.On(plan.Limit{Count: 0})
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;;1"); err == nil {
		t.Error("a deactivation past max_delete (0) went through")
	} else if got, _ := c.store.ByReference("C2"); !got.IsActive {
		t.Error("a deactivation stopped by max_delete was sent")
	}
	if got, _ := c.store.ByReference("C2"); !got.IsActive {
		t.Error("C2 back in the export: still inactive")
	}
}

// TestRun_PolicyChangeSendsOnlyChangedValues (issue 23 §1): changing a
// field's policy re-sends no customer whose pushed values do not change:
// erp → crm sends nothing, even for a phone the ERP changed meanwhile;
// crm → erp sends that customer alone (the policies are part of the
// mapping's fingerprint, so its row compares again).
func TestRun_PolicyChangeSendsOnlyChangedValues(t *testing.T) {
	c := newPolicyJob(t, nil)
	const header = "reference;name;email;phone"
	if _, err := c.run(t, header, "C1;One;;1", "C2;Two;;2", "C3;Three;;3"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	setPolicies := func(fs policy.Fields) {
		cfg := mapping.DefaultConfig()
		cfg.Delimiter = ";"
		cfg.Columns = mapping.ColumnMap{"reference": "reference", "name": "name", "email": "email", "phone": "phone"}
		if p := fs.Declared(); len(p) > 0 {
			cfg.Policies = p
		}
		m, err := mapping.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.job.Mapping, c.job.Settings.Fields = m, fs
	}
	for i, step := range []struct {
		fields policy.Fields
		want   int64
		phone  string
	}{
		{policy.Fields{"phone": policy.CRM}, 0, "1"}, // C1's phone changed in the ERP: the CRM's now
		{policy.Fields{"phone": policy.CRM}, 0, "1"},
		{nil, 1, "11"}, // erp again: C1 alone is sent
		{nil, 0, "11"},
	} {
		setPolicies(step.fields)
		before := c.upserts()
		if _, err := c.run(t, header, "C1;One;;11", "C2;Two;;2", "C3;Three;;3"); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if sent := c.upserts() - before; sent != step.want {
			t.Errorf("step %d (%v): %d upserts, want %d", i, step.fields, sent, step.want)
		}
		if got := c.field(t, "C1", "phone"); got != step.phone {
			t.Errorf("step %d (%v): C1's phone %q, want %q", i, step.fields, got, step.phone)
		}
	}
}

// TestImport_PolicyCRMWithheld (issue 23 §1): an import (a lean plan,
// whose rows are read again to be sent) follows the policies too: C1's
// new name is sent, its phone, the CRM's, is not.
func TestImport_PolicyCRMWithheld(t *testing.T) {
	c := newPolicyJob(t, policy.Fields{"phone": policy.CRM})
	if _, err := c.run(t, "reference;name;email;phone", "C1;One;;111"); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	c.handEdit(t, "C1", "phone", "999")
	c.job.Mode = sync.ModeImport
	if _, err := c.run(t, "reference;name;email;phone", "C1;One renamed;;222", "C2;Two;;333"); err != nil {
		t.Fatalf("import: %v", err)
	}
	if name, phone := c.field(t, "C1", "name"), c.field(t, "C1", "phone"); name != "One renamed" || phone != "999" {
		t.Errorf("C1: name %q, phone %q; want One renamed, the hand edit 999", name, phone)
	}
	if got := c.field(t, "C2", "phone"); got != "333" {
		t.Errorf("C2 created with phone %q, want 333", got)
	}
}
