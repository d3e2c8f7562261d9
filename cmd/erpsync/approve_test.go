package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// approveDay2 is day 2 of guardExport: G00, G02, G04 raise their credit
// limits, G19 is gone (mirror: a delete), G20 is new.
func approveDay2() string {
	return guardExport(func(i int, c []string) {
		if i == 0 || i == 2 || i == 4 {
			c[4] = fmt.Sprintf("%d", 9000+i)
		}
	}) + "G20,Customer 20,c20@x.example,Lyon,1020,EUR\n"
}

// planned runs day 1, then plans day 2 into plan.json (exit 0), over a
// crmsim whose clock the test moves on (a hand edit gets a lastUpdated
// of its own second).
func planned(t *testing.T) (e *e2e, day2, planFile string, clock *simtest.Clock) {
	t.Helper()
	clock = simtest.Ahead()
	e = newGuardE2EOn(t, crmsim.Options{Now: clock.Now}, "  max_delete: 10%", "")
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	day2 = e.file("day2.csv", strings.Replace(approveDay2(), "G19,Customer 19,c19@x.example,Lyon,1019,EUR\n", "", 1))
	planFile = filepath.Join(e.dir, "plan.json")
	if code, out, errOut := e.run("plan", "-file", day2, "-out", planFile); code != ExitOK {
		t.Fatalf("plan: exit %d: %s%s", code, out, errOut)
	}
	e.writes()
	return e, day2, planFile, clock
}

// TestApply_SendsThePlan (issue 23 §4): plan -out then apply: the CRM
// receives exactly the plan's actions (3 updates, 1 create, 1 delete);
// the applied plan is kept in the run's report folder; applying it again
// is refused (the checkpoint moved), nothing sent.
func TestApply_SendsThePlan(t *testing.T) {
	t.Parallel()
	e, _, planFile, _ := planned(t)
	code, out, errOut := e.run("apply", planFile)
	if code != ExitOK {
		t.Fatalf("apply: exit %d: %s%s", code, out, errOut)
	}
	if up, del := e.writes(); up != 4 || del != 1 {
		t.Errorf("apply sent %d upserts, %d deletes; want 4 and 1", up, del)
	}
	if c, _ := e.customer("G02"); c.CreditLimit == nil || *c.CreditLimit != 9002 {
		t.Errorf("G02's credit limit: %v", c.CreditLimit)
	}
	if _, ok := e.customer("G19"); ok {
		t.Error("G19 was not deleted")
	}
	kept, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*", "approved-plan.json"))
	orig, _ := os.ReadFile(planFile)
	if len(kept) != 1 {
		t.Fatalf("approved-plan.json in the reports: %v, want one", kept)
	} else if got, _ := os.ReadFile(kept[0]); string(got) != string(orig) {
		t.Error("the kept plan differs from the applied one")
	}
	code, _, errOut = e.run("apply", planFile)
	if code != ExitGuard || !strings.Contains(errOut, "last run") {
		t.Errorf("applied twice: exit %d, want 3 naming the checkpoint's last run: %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("the second apply sent %d upserts, %d deletes", up, del)
	}
}

// TestApply_ExportChanged: an export changed after the plan is refused
// (exit 3, naming the export), nothing sent.
func TestApply_ExportChanged(t *testing.T) {
	t.Parallel()
	e, day2, planFile, _ := planned(t)
	data, _ := os.ReadFile(day2)
	if err := os.WriteFile(day2, []byte(strings.Replace(string(data), "9002", "9003", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := e.run("apply", planFile)
	if code != ExitGuard || !strings.Contains(errOut, "the export") || !strings.Contains(errOut, "changed") {
		t.Fatalf("exit %d, want 3 naming the export: %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("a refused apply sent %d upserts, %d deletes", up, del)
	}
}

// TestApply_HandEditSkipped: a customer of the plan edited by hand in
// the CRM after the plan is skipped and listed; one edited outside the
// plan is not repaired either (not in the plan); the others are sent.
func TestApply_HandEditSkipped(t *testing.T) {
	t.Parallel()
	e, day2, planFile, clock := planned(t)
	clock.Advance(2 * time.Second)
	for _, ref := range []string{"G02", "G07"} {
		if _, err := e.sim.Store.Put(ref, map[string]string{"billingCity": "Nantes"}); err != nil {
			t.Fatal(err)
		}
	}
	e.writes()
	code, out, errOut := e.run("apply", planFile)
	if code != ExitOK {
		t.Fatalf("apply: exit %d: %s%s", code, out, errOut)
	}
	if up, del := e.writes(); up != 3 || del != 1 {
		t.Errorf("apply sent %d upserts, %d deletes; want 3 (G00, G04, G20) and 1", up, del)
	}
	if c, _ := e.customer("G02"); c.CreditLimit == nil || *c.CreditLimit != 1002 {
		t.Errorf("G02 was sent: credit limit %v", c.CreditLimit)
	}
	moved, _ := e.lastSummary()["moved_in_crm"].([]any)
	if len(moved) != 1 || moved[0] != "G02" || !strings.Contains(errOut, "G02") {
		t.Errorf("summary.json moved_in_crm %v, want [G02], and G02 named in the log:\n%s", moved, errOut)
	}
	dirs, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*", "errors.csv"))
	var listed string
	for _, d := range dirs {
		b, _ := os.ReadFile(d)
		listed += string(b)
	}
	if !strings.Contains(listed, "changed in the CRM since the plan was approved") {
		t.Errorf("errors.csv does not list the skipped customer:\n%s", listed)
	}
	// What apply left out is not forgotten: the next run repairs both
	// hand edits and sends G02's raise.
	if code, out, errOut := e.run("run", "-file", day2); code != ExitOK {
		t.Fatalf("the run after: exit %d: %s%s", code, out, errOut)
	}
	if up, _ := e.writes(); up != 2 {
		t.Errorf("the run after sent %d upserts, want 2 (G02, G07)", up)
	}
	for ref, city := range map[string]string{"G02": "PAR", "G07": "Lyon"} {
		if c, _ := e.customer(ref); c.BillingCity == nil || *c.BillingCity != city {
			t.Errorf("%s's hand edit was not repaired: city %q", ref, deref(c.BillingCity))
		}
	}
}

// TestApply_BadPlanFile: a plan file edited by hand, or of another
// config, is a usage error (exit 2), nothing sent.
func TestApply_BadPlanFile(t *testing.T) {
	t.Parallel()
	e, _, planFile, _ := planned(t)
	data, _ := os.ReadFile(planFile)
	edited := filepath.Join(e.dir, "edited.json")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(data), `"G04"`, `"G05"`, -1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := e.run("apply", edited); code != ExitUsage || !strings.Contains(errOut, "edited") {
		t.Errorf("edited plan: exit %d, want 2: %s", code, errOut)
	}
	cfg, _ := os.ReadFile(e.cfg)
	other := filepath.Join(e.dir, "other.yaml")
	otherCfg := strings.Replace(string(cfg), "erpsync.db", "other.db", 1)
	if err := os.WriteFile(other, []byte(otherCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(e.state) // the other config's checkpoint: a copy
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "other.db"), db, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("other config", func(t *testing.T) {
		e2 := *e
		e2.cfg = other
		if code, _, errOut := e2.run("apply", planFile); code != ExitUsage || !strings.Contains(errOut, "another config") {
			t.Errorf("plan of another config: exit %d, want 2: %s", code, errOut)
		}
	})
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("a refused apply sent %d upserts, %d deletes", up, del)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestApply_SameSecondHandEditSkipped: on a CRM whose lastUpdated has
// whole seconds, a hand edit in the very second of the plan keeps
// lastUpdated; the refresh's drift says the customer changed since all
// the same, and it is skipped.
func TestApply_SameSecondHandEditSkipped(t *testing.T) {
	t.Parallel()
	frozen := time.Now().UTC().Truncate(time.Second)
	e := newGuardE2EOn(t, crmsim.Options{Now: func() time.Time { return frozen }}, "  max_delete: 10%", "")
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	day2 := e.file("day2.csv", approveDay2())
	planFile := filepath.Join(e.dir, "plan.json")
	if code, out, errOut := e.run("plan", "-file", day2, "-out", planFile); code != ExitOK {
		t.Fatalf("plan: exit %d: %s%s", code, out, errOut)
	}
	if _, err := e.sim.Store.Put("G02", map[string]string{"billingCity": "Nantes"}); err != nil {
		t.Fatal(err)
	}
	e.writes()
	if code, out, errOut := e.run("apply", planFile); code != ExitOK {
		t.Fatalf("apply: exit %d: %s%s", code, out, errOut)
	}
	if up, _ := e.writes(); up != 3 {
		t.Errorf("apply sent %d upserts, want 3 (G00, G04, G20)", up)
	}
	if c, _ := e.customer("G02"); c.CreditLimit == nil || *c.CreditLimit != 1002 {
		t.Errorf("G02 was sent: credit limit %v", c.CreditLimit)
	}
}

// TestApply_PlanOverAGuard: a plan that trips a guard exits 3 but is
// written; applying it sends it, the guard accepted by whoever applies.
func TestApply_PlanOverAGuard(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_update: 1", "")
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	day2 := e.file("day2.csv", approveDay2())
	planFile := filepath.Join(e.dir, "plan.json")
	if code, out, errOut := e.run("plan", "-file", day2, "-out", planFile); code != ExitGuard {
		t.Fatalf("plan: exit %d, want 3 (max_update): %s%s", code, out, errOut)
	}
	e.writes()
	if code, out, errOut := e.run("apply", planFile); code != ExitOK {
		t.Fatalf("apply: exit %d: %s%s", code, out, errOut)
	}
	if up, _ := e.writes(); up != 4 {
		t.Errorf("apply sent %d upserts, want 4", up)
	}
	acc, _ := e.lastSummary()["accepted"].([]any)
	if len(acc) != 1 || !strings.Contains(acc[0].(map[string]any)["by"].(string), "applying "+planFile) {
		t.Errorf("summary.json accepted: %v, want max_update by whoever applied %s", acc, planFile)
	} else if d, _ := acc[0].(map[string]any)["detail"].(string); strings.Contains(d, "nothing was written") {
		t.Errorf("accepted detail %q: the apply wrote", d)
	}
}
