package apply_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/plantest"
)

// The engine's guarantees, each shown in-process against crmsim over
// loopback, on memstate in memory: this binary does not link SQLite
// (testrig.Each shows its subtests skipped). "Nothing unanswered is
// recorded" runs on SQLite too, in package sync's
// TestApply_NothingUnansweredRecordedOnSQLite (testrig.CRMGoesAway).

// refused returns n rows that the CRM refuses (400: creditLimit is not a
// number).
func refused(prefix string, n int) []mapping.Row {
	rows := make([]mapping.Row, n)
	for i := range rows {
		rows[i] = plantest.Cust(i+2, fmt.Sprintf("%s%02d", prefix, i), "creditLimit=not-a-number")
	}
	return rows
}

// Guarantee: once failures pass max_failures, no further upsert is sent.
func TestApply_FailureBudgetStopsScheduling(t *testing.T) {
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		rows := refused("F", 40)
		budget := plan.Limit{Count: 2}

		t.Run("one at a time", func(t *testing.T) {
			r := testrig.NewOn(t, impl, crmsim.Options{}, "", 1)
			_, sum, err := r.Run(t, rows, plan.Options{}, apply.Options{RunID: 1, Concurrency: 1, MaxFailures: budget})
			var guard *guard.Error
			if !errors.As(err, &guard) || guard.Guard != "max_failures" {
				t.Fatalf("Apply = %v, want the max_failures guard", err)
			}
			// The two failures allowed and the third that passes the budget;
			// not one more: the budget is checked again once a slot is free.
			sent := r.Requests(crm.OpUpsert)
			if sent != 3 {
				t.Errorf("the CRM got %d upserts, want 3", sent)
			}
			if int64(sum.Failed[plan.OpCreate]) != sent || sum.Skipped != 40-int(sent) {
				t.Errorf("summary: %d failed, %d not sent, for %d sent of 40", sum.Failed[plan.OpCreate], sum.Skipped, sent)
			}
			if fs := r.Failures(t); int64(len(fs)) != sent {
				t.Errorf("%d failures recorded, want the %d sent", len(fs), sent)
			}
		})

		t.Run("concurrently: at most the requests in flight more", func(t *testing.T) {
			const concurrency = 4
			r := testrig.NewOn(t, impl, crmsim.Options{}, "", concurrency)
			_, sum, err := r.Run(t, rows, plan.Options{}, apply.Options{RunID: 1, Concurrency: concurrency, MaxFailures: budget})
			var guard *guard.Error
			if !errors.As(err, &guard) {
				t.Fatalf("Apply = %v, want the max_failures guard", err)
			}
			sent := r.Requests(crm.OpUpsert)
			// Scheduling checks the budget before each request; at that moment
			// at most `concurrency` others may still be unanswered.
			if sent < 3 || sent > int64(budget.Count+concurrency+1) {
				t.Errorf("the CRM got %d upserts, want 3 to %d", sent, budget.Count+concurrency+1)
			}
			if int64(sum.Failed[plan.OpCreate]) != sent || sum.Skipped != 40-int(sent) {
				t.Errorf("summary: %d failed, %d not sent, for %d sent of 40", sum.Failed[plan.OpCreate], sum.Skipped, sent)
			}
		})

		t.Run("within the budget every row is sent", func(t *testing.T) {
			r := testrig.NewOn(t, impl, crmsim.Options{}, "", 4)
			_, _, err := r.Run(t, rows, plan.Options{}, apply.Options{RunID: 1, Concurrency: 4, MaxFailures: plan.Limit{Count: 40}})
			if err != nil {
				t.Fatalf("Apply = %v, want no guard with 40 failures allowed", err)
			}
			if got := r.Requests(crm.OpUpsert); got != 40 {
				t.Errorf("the CRM got %d upserts, want 40", got)
			}
		})
	})
}

// Guarantee: when an upsert of the run failed, no delete reaches the CRM.
func TestApply_DeletesHeldBackAfterFailedUpsert(t *testing.T) {
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		// setup pushes K1, K2, D1 and D2, then plans K1 and K2 changed (K2 as
		// given) and D1, D2 absent: two deletes.
		setup := func(t *testing.T, k2 mapping.Row) (*testrig.Rig, *apply.Summary, error) {
			r := testrig.NewOn(t, impl, crmsim.Options{}, "", 4)
			first := []mapping.Row{plantest.Cust(2, "K1"), plantest.Cust(3, "K2"), plantest.Cust(4, "D1"), plantest.Cust(5, "D2")}
			if _, _, err := r.Run(t, first, testrig.Mirror, apply.Options{RunID: 1, MaxFailures: testrig.EveryFailure}); err != nil {
				t.Fatal(err)
			}
			r.Sim.ResetStats()
			second := []mapping.Row{plantest.Cust(2, "K1", "email=k1@example.com"), k2}
			p, sum, err := r.Run(t, second, testrig.Mirror, apply.Options{RunID: 2, MaxFailures: testrig.EveryFailure})
			if got := plantest.Layout(p); got != "update:K1 update:K2 || delete:D1 delete:D2" {
				t.Fatalf("plan = %s, want two updates and two deletes", got)
			}
			return r, sum, err
		}

		t.Run("an upsert failed: deletes held back", func(t *testing.T) {
			r, sum, err := setup(t, plantest.Cust(3, "K2", "creditLimit=not-a-number"))
			if err != nil {
				t.Fatalf("Apply = %v, want row failures only", err)
			}
			if n := r.Requests(crm.OpDeleteByReference) + r.Requests(crm.OpShowByReference); n != 0 {
				t.Errorf("%d delete requests (or their reads) reached the CRM, want none", n)
			}
			if sum.Skipped != 2 || !strings.Contains(sum.Stopped, "deletes held back") {
				t.Errorf("summary: %d not sent, stopped %q; want the 2 deletes held back", sum.Skipped, sum.Stopped)
			}
			for _, ref := range []string{"D1", "D2"} {
				if _, ok := r.Store.ByReference(ref); !ok {
					t.Errorf("%s was deleted in the CRM", ref)
				}
				if rec, err := r.CP.Get(context.Background(), ref); err != nil || rec == nil {
					t.Errorf("%s left the checkpoint: %v, %v", ref, rec, err)
				}
			}
		})

		t.Run("every upsert succeeded: deletes sent", func(t *testing.T) {
			r, sum, err := setup(t, plantest.Cust(3, "K2", "email=k2@example.com"))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Requests(crm.OpDeleteByReference); got != 2 || sum.OK[plan.OpDelete] != 2 {
				t.Errorf("%d deletes reached the CRM, %d counted; want 2", got, sum.OK[plan.OpDelete])
			}
			if _, ok := r.Store.ByReference("D1"); ok {
				t.Error("D1 is still in the CRM")
			}
		})
	})
}

// Guarantee: a fatal answer cancels the wave (few requests after it), the
// fatal error is returned and nothing unanswered is recorded.
func TestApply_FatalErrorCancelsWave(t *testing.T) {
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		const concurrency = 4
		rows := make([]mapping.Row, 60)
		for i := range rows {
			rows[i] = plantest.Cust(i+2, fmt.Sprintf("R%02d", i))
		}

		t.Run("auth refused", func(t *testing.T) {
			r := testrig.NewOn(t, impl, crmsim.Options{Token: "the-right-token"}, "a-wrong-token", concurrency)
			_, sum, err := r.Run(t, rows, plan.Options{}, apply.Options{RunID: 1, Concurrency: concurrency, MaxFailures: testrig.EveryFailure})
			if !crm.IsFatal(err) {
				t.Fatalf("Apply = %v, want the fatal 401", err)
			}
			if got := r.Requests(crm.OpUpsert); got > 2*concurrency {
				t.Errorf("the CRM got %d upserts after refusing the token, want at most %d", got, 2*concurrency)
			}
			if n := sum.OK[plan.OpCreate] + sum.Failed[plan.OpCreate]; n != 0 {
				t.Errorf("%d outcomes counted, want none", n)
			}
			if n, fs := r.Count(t), r.Failures(t); n != 0 || len(fs) != 0 {
				t.Errorf("checkpoint: %d records and %d failures, want none", n, len(fs))
			}
		})

		// Also run on SQLite and its batched writer by package sync's
		// TestApply_NothingUnansweredRecordedOnSQLite.
		t.Run("the CRM goes away", func(t *testing.T) { testrig.CRMGoesAway(t, impl) })
	})
}

// Guarantee: a sub-customer is sent only once its parent was answered;
// deletes go sub-customers first.
func TestApply_ParentsBeforeChildren(t *testing.T) {
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		// The export lists grandchildren first, then children, then parents.
		parent := map[string]string{}
		var rows []mapping.Row
		add := func(ref, p string) {
			line := len(rows) + 2
			if p == "" {
				rows = append(rows, plantest.Cust(line, ref))
				return
			}
			parent[ref] = p
			rows = append(rows, plantest.Cust(line, ref, "parentCustomer="+p))
		}
		for i := range 6 {
			add(fmt.Sprintf("G%d", i), fmt.Sprintf("C%d", i%3))
		}
		for i := range 3 {
			add(fmt.Sprintf("C%d", i), fmt.Sprintf("P%d", i))
		}
		for i := range 3 {
			add(fmt.Sprintf("P%d", i), "")
		}
		keep := []mapping.Row{plantest.Cust(100, "A0"), plantest.Cust(101, "A1"), plantest.Cust(102, "A2")}
		rows = append(rows, keep...)

		r := testrig.NewOn(t, impl, crmsim.Options{}, "", 8)
		pl, sum, err := r.Run(t, rows, testrig.Mirror, apply.Options{RunID: 1, Concurrency: 8, MaxFailures: testrig.EveryFailure})
		if err != nil || sum.OK[plan.OpCreate] != len(rows) {
			t.Fatalf("Apply = %v, %+v; want %d created", err, sum, len(rows))
		}
		if len(pl.Upserts) != 3 {
			t.Fatalf("plan = %s, want three waves", plantest.Layout(pl))
		}
		for child, p := range parent {
			answered, sent := r.Writes.Index("answer POST "+p), r.Writes.Index("start POST "+child)
			if answered < 0 || sent < 0 || answered > sent {
				t.Errorf("%s was sent (at %d) before its parent %s was answered (at %d)", child, sent, p, answered)
			}
			if c, ok := r.Store.ByReference(child); !ok || c.ParentCustomer == nil || c.ParentCustomer.Reference != p {
				t.Errorf("%s in the CRM: parent %+v, want %s", child, c.ParentCustomer, p)
			}
		}

		// Every family leaves the export: children go first.
		_, sum, err = r.Run(t, keep, testrig.Mirror, apply.Options{RunID: 2, Concurrency: 8, MaxFailures: testrig.EveryFailure})
		if err != nil || sum.OK[plan.OpDelete] != 12 {
			t.Fatalf("Apply = %v, %+v; want 12 deleted", err, sum)
		}
		for child, p := range parent {
			answered, sent := r.Writes.Index("answer DELETE "+child), r.Writes.Index("start DELETE "+p)
			if answered < 0 || sent < 0 || answered > sent {
				t.Errorf("parent %s was deleted (at %d) before its sub-customer %s was answered (at %d)", p, sent, child, answered)
			}
		}
		if n := r.Store.Len(); n != len(keep) {
			t.Errorf("the CRM holds %d customers, want %d", n, len(keep))
		}
	})
}
