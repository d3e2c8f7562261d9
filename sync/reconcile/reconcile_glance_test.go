package reconcile_test

import (
	"context"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/apply"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/reconcile"
)

// Guarantee: a CRM copy that is not equal at a glance to its export row
// (the same text field by field) is still compared as compare does: a
// number within the tolerance matches, a value the CRM shows for an
// empty one matches, a real difference is reported with its delta.
func TestReconcile_NotEqualAtAGlance(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	pushed := []mapping.Row{
		plantest.Cust(2, "NEAR", "creditLimit=1000.004"),
		plantest.Cust(3, "FAR", "creditLimit=1000.5"),
		plantest.Cust(4, "EMPTY", "email=e@example.com"),
	}
	if _, _, err := r.Run(t, pushed, plan.Options{}, apply.Options{RunID: 1, MaxFailures: testrig.EveryFailure}); err != nil {
		t.Fatal(err)
	}
	export := []mapping.Row{
		plantest.Cust(2, "NEAR", "creditLimit=1000"),
		plantest.Cust(3, "FAR", "creditLimit=1000"),
		plantest.Cust(4, "EMPTY", "email=e@example.com", "isActive="),
	}
	res, err := reconcile.Run(ctx, plantest.Rows(export...), r.Client, r.CP, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (reconcile.Summary{Matched: 2, Different: 1}); res.Summary != want {
		t.Fatalf("summary %+v, want %+v (items %+v)", res.Summary, want, res.Items)
	}
	if it := res.Items[0]; it.Reference != "FAR" || len(it.Differences) != 1 || it.Differences[0].Delta != "-0.5" {
		t.Errorf("item %+v, want FAR's creditLimit with delta -0.5", it)
	}
}

// Guarantee: an export row with no currency whose customer is not in the
// CRM is totalled under the organisation's default currency, learnt from
// a managed customer that the export gave no currency and the CRM did; a
// reconciliation with nothing to learn it from keeps "?".
func TestReconcile_DefaultCurrency(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	managed := plantest.Cust(2, "MANAGED", "creditLimit=10")
	if _, _, err := r.Run(t, []mapping.Row{managed}, plan.Options{}, apply.Options{RunID: 1, MaxFailures: testrig.EveryFailure}); err != nil {
		t.Fatal(err)
	}
	export := plantest.Rows(managed, plantest.Cust(3, "NEW", "creditLimit=5"))
	res, err := reconcile.Run(ctx, export, r.Client, r.CP, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, unknown := res.Totals["?"]; unknown || res.Totals["EUR"].ERPCount != 2 || res.Totals["EUR"].ERPCreditLimit != 15 {
		t.Errorf("totals %+v, want both rows under EUR (15), none under ?", res.Totals)
	}
	res, err = reconcile.Run(ctx, export, r.Client, nil, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Totals["?"].ERPCount != 1 {
		t.Errorf("without a checkpoint: totals %+v, want NEW under ?", res.Totals)
	}
}
