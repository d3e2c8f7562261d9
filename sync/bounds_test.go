package sync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/sync"
)

func TestCheckReference_QuotesAnExcerpt(t *testing.T) {
	for _, ref := range []string{strings.Repeat("K", 100_000) + "/x", "/" + strings.Repeat("K", 100_000)} {
		err := sync.CheckReference(ref)
		if err == nil {
			t.Fatal("a reference with a slash passed")
		}
		if n := len(err.Error()); n > 200 {
			t.Errorf("the error is %d bytes: %.120s…", n, err)
		}
	}
}

// TestBuildPlan_BoundedByKinds: row errors past MaxErrors are counted by
// kind, not kept; identical rows keep their first lines and a count.
func TestBuildPlan_BoundedByKinds(t *testing.T) {
	var rows []mapping.Row
	for i := range 1000 {
		rows = append(rows, bad(2+i, fmt.Sprintf("B%d", i)))
	}
	for i := range 500 {
		rows = append(rows, cust(2000+i, "SAME"))
	}
	for i := range 3 {
		rows = append(rows, cust(3000+i, "DIFF", fmt.Sprintf("city=%d", i)))
	}
	for i := range 50 {
		r := cust(4000+i, fmt.Sprintf("W%d", i))
		r.Warnings = []*mapping.RowError{{File: "x.csv", Line: 4000 + i, Column: "email", Err: fmt.Errorf("email %q is not plausible", fmt.Sprint("w", i))}}
		rows = append(rows, r)
	}
	plan, err := sync.BuildPlan(context.Background(), rowsOf(rows...), checkpoint(), sync.PlanOptions{MaxErrors: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.RowErrors) != 10 || plan.RowErrorCount() != 1001 {
		t.Errorf("row errors kept %d, counted %d; want 10 and 1001", len(plan.RowErrors), plan.RowErrorCount())
	}
	kinds := map[string]sync.ErrorKind{}
	for _, k := range plan.RowErrorKinds {
		kinds[k.Kind] = k
	}
	if k := kinds["creditLimit: bad number"]; k.Count != 1000 || k.Listed != 10 || len(k.Lines) != 3 {
		t.Errorf("kinds %+v", plan.RowErrorKinds)
	}
	if len(plan.Merged) != 1 || len(plan.Merged[0].Lines) != 10 || plan.Merged[0].Rows != 500 || plan.MergedRows() != 499 {
		t.Errorf("merged %+v", plan.Merged)
	}
	if len(plan.Warnings) != 10 || plan.WarningCount() != 50 || len(plan.WarningKinds) != 1 || plan.WarningKinds[0].Kind != `email: email "…" is not plausible` {
		t.Errorf("warnings kept %d, counted %d, kinds %+v", len(plan.Warnings), plan.WarningCount(), plan.WarningKinds)
	}
	if plan.InvalidRows != 1003 {
		t.Errorf("invalid rows %d, want 1003", plan.InvalidRows)
	}
}

// TestBuildPlan_CycleErrorBounded: a parent cycle through every row of
// an export names a few of its references, not all of them in each row.
func TestBuildPlan_CycleErrorBounded(t *testing.T) {
	const n = 2000
	var rows []mapping.Row
	for i := range n {
		rows = append(rows, cust(2+i, fmt.Sprintf("R%05d", i), fmt.Sprintf("parentCustomer=R%05d", (i+1)%n)))
	}
	plan, err := sync.BuildPlan(context.Background(), rowsOf(rows...), checkpoint(), sync.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.RowErrorCount() != n {
		t.Fatalf("%d row errors, want %d", plan.RowErrorCount(), n)
	}
	for _, e := range plan.RowErrors {
		if s := e.Error(); len(s) > 400 {
			t.Fatalf("the error is %d bytes: %.200s…", len(s), s)
		}
	}
}
