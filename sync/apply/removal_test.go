package apply_test

import (
	"context"
	"encoding/json"
	"testing"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
)

// TestApply_DeleteAndDeactivateKeepACopyAlike: a delete and a
// deactivation start alike (one step): the CRM's copy is read and kept,
// with its id, before the write; a customer the CRM no longer holds is
// done (404), with no write and no copy. Only the write differs, and
// the copy of a deactivation says isActive=false.
func TestApply_DeleteAndDeactivateKeepACopyAlike(t *testing.T) {
	for _, tc := range []struct {
		deletes  policy.DeleteMode
		write    string // the request of the write
		inactive bool   // the copy kept says isActive=false
	}{
		{policy.DeletesMirror, crm.OpDeleteByReference, false},
		{policy.DeletesDeactivate, crm.OpUpsert, true},
	} {
		t.Run(string(tc.deletes), func(t *testing.T) {
			ctx := context.Background()
			r := testrig.New(t, crmsim.Options{}, "", 2)
			opt := plan.Options{Deletes: tc.deletes, MaxDelete: testrig.EveryDelete}
			first := []mapping.Row{plantest.Cust(2, "K"), plantest.Cust(3, "A"), plantest.Cust(4, "B")}
			if _, _, err := r.Run(t, first, opt, apply.Options{RunID: 1, MaxFailures: testrig.EveryFailure}); err != nil {
				t.Fatal(err)
			}
			a, _ := r.Store.ByReference("A")
			if err := r.Store.DeleteByReference("B"); err != nil { // by hand: gone before the run
				t.Fatal(err)
			}
			r.Sim.ResetStats()
			_, sum, err := r.Run(t, first[:1], opt, apply.Options{RunID: 2, MaxFailures: testrig.EveryFailure})
			if err != nil || sum.OK[plan.OpDelete] != 2 || sum.Failed[plan.OpDelete] != 0 {
				t.Fatalf("run 2: %v, %d done, %d failed; want both removals done", err, sum.OK[plan.OpDelete], sum.Failed[plan.OpDelete])
			}
			if got := r.Requests(crm.OpShowByReference); got != 2 {
				t.Errorf("%d reads of the CRM's copy, want 2 (A and B)", got)
			}
			if got := r.Requests(tc.write); got != 1 {
				t.Errorf("%d %s, want 1 (A's; B was gone)", got, tc.write)
			}
			in := r.CP.(state.Inspector) // both implementations have it
			copies, err := in.DeletedCopies(ctx, "A")
			if err != nil || len(copies) != 1 || copies[0].CRMID != a.ID || copies[0].RunID != 2 {
				t.Fatalf("A's copies %+v, %v; want one of id %d, run 2", copies, err, a.ID)
			}
			var kept crm.Customer
			if err := json.Unmarshal(copies[0].Copy, &kept); err != nil || kept.Reference != "A" || kept.IsActive == tc.inactive {
				t.Errorf("A's copy: reference %q, isActive %v, %v; want A with isActive %v", kept.Reference, kept.IsActive, err, !tc.inactive)
			}
			if copies, err := in.DeletedCopies(ctx, "B"); err != nil || len(copies) != 0 {
				t.Errorf("B, gone before the run, has copies %+v, %v", copies, err)
			}
			for _, ref := range []string{"A", "B"} {
				if rec, err := r.CP.Get(ctx, ref); err != nil || rec != nil {
					t.Errorf("%s still managed: %+v, %v", ref, rec, err)
				}
			}
		})
	}
}
