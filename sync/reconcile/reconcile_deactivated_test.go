package reconcile_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/sync/apply"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
	"erpsync/sync/reconcile"
)

// TestReconcile_Deactivated (issue 23 §2): a customer erpsync deactivated
// (sync.deletes: deactivate; the checkpoint's audit copy says so) is its
// own status, deactivated: listed, not only_in_crm, no difference, out of
// the control totals; the two sides agree. A customer inactive in the CRM
// that erpsync never managed is still only_in_crm.
func TestReconcile_Deactivated(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	stay := plantest.Cust(2, "STAY", "creditLimit=10", "currency=EUR")
	gone := plantest.Cust(3, "GONE", "creditLimit=20", "currency=EUR")
	opt := plan.Options{Deletes: policy.DeletesDeactivate, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true})}
	if _, _, err := r.Run(t, []mapping.Row{stay, gone}, opt, apply.Options{RunID: 1, MaxFailures: testrig.EveryFailure}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Run(t, []mapping.Row{stay}, opt, apply.Options{RunID: 2, MaxFailures: testrig.EveryFailure}); err != nil {
		t.Fatal(err)
	}
	if c, ok := r.Store.ByReference("GONE"); !ok || c.IsActive {
		t.Fatalf("GONE after day 2: in the CRM %v, active %v; want true, false", ok, c.IsActive)
	}
	res, err := reconcile.Run(ctx, plantest.Rows(stay), r.Client, r.CP, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary; s.OnlyInCRM != 0 || s.Deactivated != 1 || s.Matched != 1 || !res.Agree() {
		t.Errorf("summary %+v (verdict %s); want 1 matched, 1 deactivated, none only in the CRM, agree", s, res.Verdict())
	}
	if len(res.Items) != 1 || res.Items[0].Reference != "GONE" || res.Items[0].Status != reconcile.StatusDeactivated ||
		res.Items[0].Reason != reconcile.ReasonDeactivated {
		t.Errorf("items %+v; want GONE, deactivated", res.Items)
	}
	if tot := res.Totals["EUR"]; tot.CRMCount != 1 || tot.ERPCount != 1 || tot.Difference != 0 || tot.Differing != 0 {
		t.Errorf("EUR totals %+v; want 1 and 1, no difference", tot)
	}
	dir := t.TempDir()
	files, err := reconcile.Write(dir, res, reconcile.Pack{Source: exportFile(t), At: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if csv, _ := os.ReadFile(files.CSV); !strings.Contains(string(csv), "GONE,deactivated") {
		t.Errorf("reconciliation.csv does not list GONE as deactivated:\n%s", csv)
	}
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m reconcile.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Exceptions) != 0 || m.Totals.Summary.Deactivated != 1 {
		t.Errorf("manifest exceptions %+v, summary %+v; want none (a deactivation is no exception), 1 deactivated", m.Exceptions, m.Totals.Summary)
	}
}
