package reconcile_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/sync/apply"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
	"erpsync/sync/reconcile"
)

// TestReconcile_PolicyCRMOwned (issue 23 §1): under phone: crm a phone
// edited by hand is no difference: the customer counts as matched, and
// its phone is shown apart (status crm_owned); under email: fill a
// filled email the CRM changed is the CRM's too. A field of erp's that
// differs still is a difference.
func TestReconcile_PolicyCRMOwned(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	pushed := []mapping.Row{
		plantest.Cust(2, "OWNED", "phone=111", "email=o@example.com"),
		plantest.Cust(3, "ERP", "phone=222", "email=e@example.com"),
	}
	if _, _, err := r.Run(t, pushed, plan.Options{}, apply.Options{RunID: 1, MaxFailures: testrig.EveryFailure}); err != nil {
		t.Fatal(err)
	}
	r.Clock.Advance(time.Minute)
	for ref, vals := range map[string]map[string]string{
		"OWNED": {"phone": "999", "email": "hand@example.com"},
		"ERP":   {"name": "Renamed by hand"},
	} {
		if _, err := r.Store.Put(ref, vals); err != nil {
			t.Fatal(err)
		}
	}
	fields := policy.Fields{"phone": policy.CRM, "email": policy.Fill}
	res, err := reconcile.Run(ctx, plantest.Rows(pushed...), r.Client, r.CP, reconcile.Options{Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Matched != 1 || res.Summary.Different != 1 || res.Fields["phone"] != 0 || res.Fields["email"] != 0 {
		t.Errorf("summary %+v, fields %v; want OWNED matched, ERP different (name), no phone or email difference", res.Summary, res.Fields)
	}
	var owned *reconcile.Item
	for i, it := range res.Items {
		if it.Reference == "OWNED" {
			owned = &res.Items[i]
		}
	}
	if owned == nil || owned.Status != reconcile.StatusCRMOwned || len(owned.CRMOwned) != 2 || len(owned.Differences) != 0 {
		t.Fatalf("OWNED: %+v; want status crm_owned, phone and email in crm_owned, no difference", owned)
	}
	files, err := reconcile.Write(t.TempDir(), res, reconcile.Pack{Source: exportFile(t), At: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(files.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(csv), "OWNED,crm_owned,phone,111,999,") {
		t.Errorf("reconciliation.csv does not show OWNED's phone as the CRM's:\n%s", csv)
	}
}
