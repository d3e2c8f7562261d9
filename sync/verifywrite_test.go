package sync_test

import (
	"strings"
	"testing"

	"erpsync/sync"
	"erpsync/sync/crm/crmsim"
)

// TestRun_StoredValueDiffersIsRowFailure (issue 21 §4): the upsert's
// answer is compared with what was sent. A CRM that reads the
// digits-only parent "1" as the id 1 (crmsim -parent-digits id)
// attaches SUB to OTHER: a row
// failure naming the field, what was stored and what was sent (exit 1),
// recorded, and SUB is planned again by the next run, never unchanged.
func TestRun_StoredValueDiffersIsRowFailure(t *testing.T) {
	// crmsim -parent-digits id: a digits-only parent is read as an id.
	c := newCSVJobOn(t, csvConfig(), crmsim.Options{Quirks: crmsim.Quirks{ParentDigits: "id"}})
	if _, err := c.store.Put("OTHER", map[string]string{"name": "Another customer, id 1"}); err != nil {
		t.Fatal(err)
	}
	export := []string{"reference;name;parent;email", "1;One;;", "SUB;Sub of one;1;"}
	for run := 1; run <= 2; run++ {
		out, err := c.run(t, export...)
		if got := sync.Classify(err); got != sync.ClassRowFailures {
			t.Fatalf("run %d = %v (class %d), want row failures (1)", run, err, got)
		}
		checkAccount(t, out.Dir)
		var subPlanned bool
		for a := range out.Plan.All() {
			subPlanned = subPlanned || a.Reference == "SUB"
		}
		if !subPlanned {
			t.Errorf("run %d: SUB not planned (unchanged %d): its stored parent differs from the one sent", run, out.Plan.Unchanged)
		}
		var msg string
		for _, l := range outcomeLines(t, out, "errors.csv") {
			if l.Reference == "SUB" {
				msg = lineText(l)
			}
		}
		if want := `the CRM stored "OTHER" for field parentCustomer, sent "1"`; !strings.Contains(msg, want) {
			t.Errorf("run %d: errors.csv on SUB: %q, want %q", run, msg, want)
		}
		fs := failuresOf(t, c)
		if len(fs) != 1 || fs[0].Reference != "SUB" {
			t.Errorf("run %d: failures recorded %+v, want SUB's", run, fs)
		}
	}
}
