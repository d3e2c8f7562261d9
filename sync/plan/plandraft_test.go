package plan_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/reference"
)

// draftCase is an import's export whose creates with no parent are a lean
// plan's drafts, beside everything that takes a draft back or leans on
// one: its rows in a shuffled order.
func draftCase(seed uint64) (plan.Rows, plantest.MemCheckpoint) {
	managed := plantest.Cust(90, "M1")
	rows := []mapping.Row{
		plantest.Cust(2, "A"),                                              // a draft
		plantest.Cust(3, "B"),                                              // a draft, parent of C
		plantest.Cust(4, "C", "parentCustomer=B"),                          // wave 1
		plantest.Cust(5, "D", "parentCustomer=C"),                          // wave 2
		plantest.Cust(6, "E"),                                              // a draft, its rows identical: merged
		plantest.Cust(7, "E"),                                              //
		plantest.Cust(8, "F"),                                              // a draft, its rows differing: rejected
		plantest.Cust(9, "F", "email=f@x.example"),                         //
		plantest.Cust(10, "G", "parentCustomer=F"),                         // its parent rejected: rejected
		plantest.Cust(11, "K7"),                                            // folds to k7: both rejected
		plantest.Cust(12, "k7"),                                            //
		plantest.Cust(13, "H", "parentCustomer=k7"),                        // its parent rejected: rejected
		plantest.Cust(14, "I", "parentCustomer=Nowhere"),                   // no such parent: rejected
		plantest.Cust(15, "J", "parentCustomer=L"),                         // a cycle J → L → J
		plantest.Cust(16, "L", "parentCustomer=J"),                         //
		plantest.Cust(17, "N", "parentCustomer=M1"),                        // a managed parent: wave 0
		plantest.Cust(18, "O", "parentCustomer=A"),                         // a draft's child: wave 1
		plantest.Cust(19, "M2", "email=new@x.example", "parentCustomer=A"), // an update under a draft
		plantest.Bad(20, "P"),                                              // a row error
		plantest.Cust(21, "Q"),                                             // a draft
		plantest.Cust(22, "R"),                                             // a draft, its parent's row out of order
		plantest.Cust(1, "S", "parentCustomer=R"),                          // (line 1 comes last in the shuffle or not)
		managed, // unchanged
	}
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	cp := plantest.Checkpoint(managed, plantest.Cust(91, "M2"))
	return plantest.Rows(rows...), cp
}

// draftPlanText writes what a plan sends, wave by wave, and what it refused,
// lean or not: op, reference, line, reason and parent of each upsert.
func draftPlanText(p *plan.Plan) string {
	var b strings.Builder
	for i := range p.UpsertWaves() {
		fmt.Fprintf(&b, "wave %d:\n", i)
		for a := range p.UpsertWave(i) {
			fmt.Fprintf(&b, "  %s %s line %d (%s) parent %q\n", a.Op, a.Reference, a.Line, a.Reason, a.Parent)
		}
	}
	errs := slices.Clone(p.RowErrors)
	slices.SortFunc(errs, func(x, y *mapping.RowError) int { return strings.Compare(x.Error(), y.Error()) })
	for _, e := range errs {
		fmt.Fprintf(&b, "error: %v\n", e)
	}
	fmt.Fprintf(&b, "creates %d updates %d unchanged %d invalid %d merged %v conflicts %v\n",
		p.Count(plan.OpCreate), p.Count(plan.OpUpdate), p.Unchanged, p.InvalidRows, p.Merged, p.Conflicts)
	return b.String()
}

// TestBuildPlan_LeanDraftsAsFull: a lean plan makes no Action of a create
// with no parent while it reads the export (a draft), yet it plans what a
// full plan does: the same waves, in the order of the lines, the same
// row errors (duplicates, folded references, parents taken back with
// them, cycles), whatever the order the rows come in.
func TestBuildPlan_LeanDraftsAsFull(t *testing.T) {
	for seed := range uint64(8) {
		rows, cp := draftCase(seed)
		build := func(lean bool) *plan.Plan {
			p, err := plan.Build(context.Background(), rows, cp, plan.Options{File: "x.csv", ImportOnly: true, Lean: lean,
				References: reference.Insensitive})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		lean, full := draftPlanText(build(true)), draftPlanText(build(false))
		if lean != full {
			t.Fatalf("seed %d: the lean plan differs from the full one\nlean:\n%s\nfull:\n%s", seed, lean, full)
		}
		if seed > 0 {
			continue
		}
		t.Logf("the plan:\n%s", lean)
		for _, want := range []string{
			"wave 0:\n  create A line 2 (new)", "create R line 22", "create B line 3", "create Q line 21",
			"create N line 17 (new) parent \"M1\"",
			"wave 1:\n  create S line 1 (new) parent \"R\"", "create C line 4 (new) parent \"B\"",
			"create O line 18", "update M2 line 19", "wave 2:\n  create D line 5",
			"creates 10 updates 1 unchanged 1",
		} {
			if !strings.Contains(lean, want) {
				t.Errorf("the plan lacks %q", want)
			}
		}
		for _, gone := range []string{" F line", " G line", " K7 line", " k7 line", " H line", " I line", " J line", " L line"} {
			if strings.Contains(lean, "create"+gone) {
				t.Errorf("the plan sends%s: it should be a row error", gone)
			}
		}
	}
}
