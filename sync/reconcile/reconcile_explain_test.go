package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/sync/apply"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/reconcile"
)

// Guarantee: Reconcile says why each reference differs, from the
// checkpoint: changed in the ERP, edited in the CRM by hand, last push
// failed (a row erpsync could not send: refused), deleted by hand (and
// new, and not ours).
func TestReconcile_Explanations(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	pushed := []mapping.Row{
		plantest.Cust(2, "MATCH", "email=m@example.com"),
		plantest.Cust(3, "ERPCHG", "email=e@example.com"),
		plantest.Cust(4, "HAND", "email=h@example.com"),
		plantest.Cust(5, "FAILED", "email=f@example.com", "creditLimit=1000"),
		plantest.Cust(6, "GONE", "email=g@example.com"),
	}
	if _, _, err := r.Run(t, pushed, plan.Options{}, apply.Options{RunID: 1, MaxFailures: testrig.EveryFailure}); err != nil {
		t.Fatal(err)
	}
	// A minute later, by hand in the CRM: HAND edited, GONE deleted, OTHER
	// created. The test clock makes HAND's lastUpdated differ from the
	// one recorded without waiting past the CRM's second.
	r.Clock.Advance(time.Minute)
	if _, err := r.Store.Put("HAND", map[string]string{"email": "edited@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Store.DeleteByReference("GONE"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Store.Put("OTHER", map[string]string{"name": "Not ours"}); err != nil {
		t.Fatal(err)
	}
	// FAILED's next push is refused.
	failed := plantest.Cust(5, "FAILED", "email=f@example.com", "creditLimit=not-a-number")
	if _, sum, err := r.Run(t, []mapping.Row{failed}, plan.Options{ImportOnly: true}, apply.Options{RunID: 2, MaxFailures: testrig.EveryFailure}); err != nil || sum.Failed[plan.OpUpdate] != 1 {
		t.Fatalf("second run: %v, %+v; want FAILED refused", err, sum)
	}

	export := []mapping.Row{
		pushed[0],
		plantest.Cust(3, "ERPCHG", "email=new@example.com"),
		pushed[2],
		failed,
		pushed[4],
		plantest.Cust(7, "NEW"),
	}
	res, err := reconcile.Run(ctx, plantest.Rows(export...), r.Client, r.CP, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]reconcile.Item{}
	for _, it := range res.Items {
		items[it.Reference] = it
	}
	for _, tc := range []struct {
		ref, status, why string
	}{
		{"ERPCHG", reconcile.StatusDifferent, "the ERP changed it, not yet synced"},
		{"HAND", reconcile.StatusDifferent, "edited in the CRM by hand since the last sync"},
		{"FAILED", reconcile.StatusRefused, "the last push failed: 400"}, // erpsync could not send it
		{"GONE", reconcile.StatusOnlyInERP, "deleted in the CRM by hand since the last sync"},
		{"NEW", reconcile.StatusOnlyInERP, "new in the ERP, not yet synced"},
		{"OTHER", reconcile.StatusOnlyInCRM, "not managed by erpsync"},
	} {
		it, ok := items[tc.ref]
		if !ok {
			t.Errorf("%s: not reported", tc.ref)
			continue
		}
		if it.Status != tc.status || !strings.Contains(it.Explanation, tc.why) {
			t.Errorf("%s: %s, %q; want %s, %q", tc.ref, it.Status, it.Explanation, tc.status, tc.why)
		}
	}
	for ref, field := range map[string]string{"ERPCHG": "email", "HAND": "email", "FAILED": "creditLimit"} {
		if d := items[ref].Differences; len(d) != 1 || d[0].Field != field {
			t.Errorf("%s: differences %+v, want %s alone", ref, d, field)
		}
	}
	if _, reported := items["MATCH"]; reported || res.Summary.Matched != 1 {
		t.Errorf("MATCH: reported %v, %d matched; want it matched", reported, res.Summary.Matched)
	}
}
