package plan_test

import (
	"context"
	"fmt"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/rowerrors"
)

// TestBuildPlan_BoundedByKinds: row errors past MaxErrors are counted by
// kind, not kept; identical rows keep their first lines and a count.
func TestBuildPlan_BoundedByKinds(t *testing.T) {
	var rows []mapping.Row
	for i := range 1000 {
		rows = append(rows, plantest.Bad(2+i, fmt.Sprintf("B%d", i)))
	}
	for i := range 500 {
		rows = append(rows, plantest.Cust(2000+i, "SAME"))
	}
	for i := range 3 {
		rows = append(rows, plantest.Cust(3000+i, "DIFF", fmt.Sprintf("city=%d", i)))
	}
	for i := range 50 {
		r := plantest.Cust(4000+i, fmt.Sprintf("W%d", i))
		r.Warnings = []*mapping.RowError{{File: "x.csv", Line: 4000 + i, Column: "email", Err: fmt.Errorf("email %q is not plausible", fmt.Sprint("w", i))}}
		rows = append(rows, r)
	}
	p, err := plan.Build(context.Background(), plantest.Rows(rows...), plantest.Checkpoint(), plan.Options{MaxErrors: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.RowErrors) != 10 || p.RowErrorCount() != 1001 {
		t.Errorf("row errors kept %d, counted %d; want 10 and 1001", len(p.RowErrors), p.RowErrorCount())
	}
	kinds := map[string]rowerrors.Kind{}
	for _, k := range p.RowErrorKinds {
		kinds[k.Kind] = k
	}
	if k := kinds["creditLimit: bad number"]; k.Count != 1000 || k.Listed != 10 || len(k.Lines) != 3 {
		t.Errorf("kinds %+v", p.RowErrorKinds)
	}
	if len(p.Merged) != 1 || len(p.Merged[0].Lines) != 10 || p.Merged[0].Rows != 500 || p.MergedRows() != 499 {
		t.Errorf("merged %+v", p.Merged)
	}
	if len(p.Warnings) != 10 || p.WarningCount() != 50 || len(p.WarningKinds) != 1 || p.WarningKinds[0].Kind != `email: email "…" is not plausible` {
		t.Errorf("warnings kept %d, counted %d, kinds %+v", len(p.Warnings), p.WarningCount(), p.WarningKinds)
	}
	if p.InvalidRows != 1003 {
		t.Errorf("invalid rows %d, want 1003", p.InvalidRows)
	}
}

// TestBuildPlan_CycleErrorBounded: a parent cycle through every row of
// an export names a few of its references, not all of them in each row.
func TestBuildPlan_CycleErrorBounded(t *testing.T) {
	t.Parallel()
	const n = 200 // each row's error would name 200 references, some 1,400 bytes: over 400
	var rows []mapping.Row
	for i := range n {
		rows = append(rows, plantest.Cust(2+i, fmt.Sprintf("R%05d", i), fmt.Sprintf("parentCustomer=R%05d", (i+1)%n)))
	}
	p, err := plan.Build(context.Background(), plantest.Rows(rows...), plantest.Checkpoint(), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.RowErrorCount() != n {
		t.Fatalf("%d row errors, want %d", p.RowErrorCount(), n)
	}
	for _, e := range p.RowErrors {
		if s := e.Error(); len(s) > 400 {
			t.Fatalf("the error is %d bytes: %.200s…", len(s), s)
		}
	}
}
