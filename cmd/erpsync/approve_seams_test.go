package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// withoutG19 is day 1's export with G19 gone.
func withoutG19() string {
	return strings.Replace(guardExport(nil), "G19,Customer 19,c19@x.example,Lyon,1019,EUR\n", "", 1)
}

// TestApply_FlagsAfterPlanFile: `apply PLAN.json -config F` reads the
// flags after the plan file too, as why does.
func TestApply_FlagsAfterPlanFile(t *testing.T) {
	t.Parallel()
	e, _, planFile, _ := planned(t)
	var out, errOut bytes.Buffer
	code := NewMain(&out, &errOut).Run(context.Background(), []string{"apply", planFile, "-config", e.cfg})
	if code != ExitOK {
		t.Fatalf("apply PLAN -config F: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if up, del := e.writes(); up != 4 || del != 1 {
		t.Errorf("apply sent %d upserts, %d deletes; want 4 and 1", up, del)
	}
}

// TestApply_DeletesModeChanged (issue 23 §4, data safety): a plan made
// under deletes: deactivate, applied once the config says mirror, is
// refused (exit 3 naming sync.deletes), nothing sent; the plan file says
// the delete is sent as isActive=false.
func TestApply_DeletesModeChanged(t *testing.T) {
	t.Parallel()
	e := newGuardE2EOn(t, crmsim.Options{}, "  max_delete: 10%", "")
	mirror, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	deactivate := strings.Replace(string(mirror), "deletes: mirror", "deletes: deactivate", 1)
	if err := os.WriteFile(e.cfg, []byte(deactivate), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	day2 := e.file("day2.csv", withoutG19())
	planFile := filepath.Join(e.dir, "plan.json")
	if code, out, errOut := e.run("plan", "-file", day2, "-out", planFile); code != ExitOK {
		t.Fatalf("plan: exit %d: %s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(planFile); !strings.Contains(string(b), "isActive=false") {
		t.Errorf("plan.json does not say the delete is sent as isActive=false:\n%s", b)
	}
	csvFile := filepath.Join(e.dir, "plan.csv")
	if code, out, errOut := e.run("plan", "-file", day2, "-out", csvFile); code != ExitOK {
		t.Fatalf("plan .csv: exit %d: %s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(csvFile); !strings.Contains(string(b), "isActive=false") {
		t.Errorf("plan.csv does not say the delete is sent as isActive=false:\n%s", b)
	}
	if err := os.WriteFile(e.cfg, mirror, 0o600); err != nil {
		t.Fatal(err)
	}
	e.writes()
	code, _, errOut := e.run("apply", planFile)
	if code != ExitGuard || !strings.Contains(errOut, "sync.deletes") {
		t.Errorf("apply under another sync.deletes: exit %d, want 3 naming sync.deletes: %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("apply sent %d upserts, %d deletes; want none", up, del)
	}
	if c, ok := e.customer("G19"); !ok || !c.IsActive {
		t.Errorf("G19 in the CRM: %v, active %v; want present and active", ok, c.IsActive)
	}
	modeCfg := strings.Replace(deactivate, "  max_delete: 10%", "  max_delete: 10%\n  mode: upsert", 1)
	if err := os.WriteFile(e.cfg, []byte(modeCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := e.run("apply", planFile); code != ExitGuard || !strings.Contains(errOut, "sync.mode") {
		t.Errorf("apply under another sync.mode: exit %d, want 3 naming sync.mode: %s", code, errOut)
	}
}

// TestPlan_EmptyExportNotApprovable (issue 23 §4): a plan stopped by the
// empty export guard, which -accept cannot let through, is not written
// as a plan waiting for approval (no approval, no sha256; plan, and so
// serve.approve, do not offer erpsync apply): apply refuses the file
// (exit 2) rather than stopping on the same guard again.
func TestPlan_EmptyExportNotApprovable(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_delete: 100%", "")
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	planFile := filepath.Join(e.dir, "plan.json")
	code, out, errOut := e.run("plan", "-file", e.file("empty.csv", "REF,NAME,EMAIL,CITY,LIMIT,CUR\n"), "-out", planFile)
	if code != ExitGuard || !strings.Contains(errOut, "empty export") {
		t.Fatalf("plan of an empty export: exit %d, want 3 (empty export): %s%s", code, out, errOut)
	}
	if strings.Contains(out, "erpsync apply") {
		t.Errorf("plan offers erpsync apply for a guard that apply cannot let through:\n%s", out)
	}
	e.writes()
	code, _, errOut = e.run("apply", planFile)
	if code != ExitUsage {
		t.Errorf("apply of an empty export's plan: exit %d, want 2 (not a plan to approve): %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("apply sent %d upserts, %d deletes", up, del)
	}
}

// TestApply_Reactivation: plan -out of a deactivated customer's return
// approves its reactivation (an update), and apply sends it: back
// active; a -dry-run plans it the same way and sends nothing.
func TestApply_Reactivation(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_delete: 10%\n  fields: {email: crm}", "")
	cfg, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.cfg, []byte(strings.Replace(string(cfg), "deletes: mirror", "deletes: deactivate", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	if code, _, errOut := e.run("run", "-file", e.file("day2.csv", withoutG19())); code != ExitOK {
		t.Fatalf("day 2: exit %d: %s", code, errOut)
	}
	day3 := e.file("day3.csv", guardExport(nil))
	e.writes()
	if code, out, errOut := e.run("run", "-dry-run", "-file", day3); code != ExitOK || !strings.Contains(out, "reactivated") {
		t.Errorf("dry run of G19's return: exit %d, want 0 planning a reactivation:\n%s%s", code, out, errOut)
	}
	planFile := filepath.Join(e.dir, "plan.json")
	if code, out, errOut := e.run("plan", "-file", day3, "-out", planFile); code != ExitOK || !strings.Contains(out, "reactivated") {
		t.Fatalf("plan: exit %d, want 0 planning a reactivation: %s%s", code, out, errOut)
	}
	if code, out, errOut := e.run("apply", planFile); code != ExitOK {
		t.Fatalf("apply: exit %d: %s%s", code, out, errOut)
	}
	if up, del := e.writes(); up != 1 || del != 0 {
		t.Errorf("dry run, plan and apply sent %d upserts, %d deletes; want the apply's 1 upsert", up, del)
	}
	if c, _ := e.customer("G19"); !c.IsActive {
		t.Error("G19 still inactive after apply")
	}
}

// TestReconcile_AfterDeactivate: once day 2 deactivated G19, reconcile
// of day 2 agrees (exit 0) and says G19 was deactivated by erpsync.
func TestReconcile_AfterDeactivate(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_delete: 10%", "")
	cfg, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.cfg, []byte(strings.Replace(string(cfg), "deletes: mirror", "deletes: deactivate", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	day2 := e.file("day2.csv", withoutG19())
	if code, _, errOut := e.run("run", "-file", day2); code != ExitOK {
		t.Fatalf("day 2: exit %d: %s", code, errOut)
	}
	code, out, errOut := e.run("reconcile", "-file", day2, "-out", filepath.Join(e.dir, "pack"))
	if code != ExitOK || !strings.Contains(out, "deactivated by erpsync 1") || !strings.Contains(out, "only in the CRM 0") {
		t.Errorf("reconcile after a deactivation: exit %d, want 0 with G19 deactivated:\n%s%s", code, out, errOut)
	}
}
