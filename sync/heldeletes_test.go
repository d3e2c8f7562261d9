package sync_test

import (
	"strings"
	"testing"

	"erpsync/sync"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
)

// TestRun_UnknownReferenceHoldsMirrorDeletes (issue 21 §2): a row whose
// reference was blanked is a row error, and erpsync cannot know which
// customer it was: with deletes: mirror, every delete of a customer absent
// from the export is held (listed in the plan and in errors.csv, with the
// reason), nothing is deleted, and the run ends with row failures (exit
// 1). sync.delete_despite_row_errors: true lets them go.
func TestRun_UnknownReferenceHoldsMirrorDeletes(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and folder
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		header := "reference;name;parent;email"
		day1 := []string{header, "A;Alpha;;a@x.example", "B;Beta;;b@x.example", "C;Gamma;;c@x.example"}
		// A's reference blanked; C dropped from the export (a true removal,
		// held too: it cannot be told apart from A's).
		day2 := []string{header, ";Alpha;;a@x.example", "B;Beta;;b@x.example", "D;Delta;;d@x.example"}

		t.Run("held", func(t *testing.T) {
			c := newCSVJobWith(t, impl, csvConfig(), crmsim.Options{})
			if _, err := c.run(t, day1...); err != nil {
				t.Fatalf("day 1: %v", err)
			}
			out, err := c.run(t, day2...)
			if got := sync.Classify(err); got != sync.ClassRowFailures {
				t.Fatalf("day 2 = %v (class %d), want row failures (1)", err, got)
			}
			checkAccount(t, out.Dir)
			if !c.inCRM("A") || !c.inCRM("C") || !c.inCRM("D") {
				t.Errorf("in the CRM: A %v, C %v, D %v; want all three (no delete, D created)", c.inCRM("A"), c.inCRM("C"), c.inCRM("D"))
			}
			if n := c.sim.Stats()["DELETE /customers/reference/{id}"]; n != 0 {
				t.Errorf("%d deletes sent, want none", n)
			}
			held := 0
			for a := range out.Plan.All() {
				if a.Op == plan.OpDelete {
					if !strings.Contains(a.Reason, "held") {
						t.Errorf("plan: delete %s reason %q, want it held", a.Reference, a.Reason)
					}
					held++
				}
			}
			if held != 2 || !strings.Contains(out.Plan.DeletesHeld, "line 2") {
				t.Errorf("plan holds %d deletes (%q), want A and C, naming line 2", held, out.Plan.DeletesHeld)
			}
			notSent := map[string]string{}
			for _, l := range outcomeLines(t, out, "errors.csv") {
				if l.Error == "not_sent" {
					notSent[l.Reference] = lineText(l)
				}
			}
			for _, ref := range []string{"A", "C"} {
				if !strings.Contains(notSent[ref], "held") || !strings.Contains(notSent[ref], "delete_despite_row_errors") {
					t.Errorf("errors.csv on %s: %q, want not_sent, held, with the way out", ref, notSent[ref])
				}
			}
		})

		t.Run("delete despite row errors", func(t *testing.T) {
			c := newCSVJobWith(t, impl, csvConfig(), crmsim.Options{})
			c.job.Settings.DeleteDespiteRowErrors = true
			if _, err := c.run(t, day1...); err != nil {
				t.Fatalf("day 1: %v", err)
			}
			_, err := c.run(t, day2...)
			if got := sync.Classify(err); got != sync.ClassRowFailures {
				t.Fatalf("day 2 = %v (class %d), want row failures (1)", err, got)
			}
			if c.inCRM("A") || c.inCRM("C") {
				t.Errorf("in the CRM: A %v, C %v; want both deleted as asked", c.inCRM("A"), c.inCRM("C"))
			}
		})
	})
}
