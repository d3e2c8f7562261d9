package sync_test

import (
	"context"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/sync"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/reference"
)

// TestRun_ReferencesOneIgnoringCase (issue 21 §5): references of one
// export equal ignoring case or accents (K00000300 and k00000300; Café-1
// and CAFE-1) would be one customer in a CRM that compares them so:
// every such row is a row error naming the others, none is sent (exit 1).
// The other rows go on. sync.references: exact keeps today's behaviour.
func TestRun_ReferencesOneIgnoringCase(t *testing.T) {
	export := []string{"reference;name;parent;email",
		"K00000300;Upper;;", "OK-1;Fine;;", "k00000300;Lower;;", "Café-1;Accented;;", "CAFE-1;Plain;;"}

	t.Run("insensitive", func(t *testing.T) {
		c := newCSVJob(t, csvConfig())
		out, err := c.run(t, export...)
		if got := sync.Classify(err); got != sync.ClassRowFailures {
			t.Fatalf("run = %v (class %d), want row failures (1)", err, got)
		}
		checkAccount(t, out.Dir)
		if n := c.store.Len(); n != 1 || !c.inCRM("OK-1") {
			t.Errorf("the CRM holds %d customers, want OK-1 alone", n)
		}
		msgs := map[string]string{}
		for _, e := range out.Plan.RowErrors {
			msgs[e.Reference] = e.Error()
		}
		for ref, other := range map[string]string{"K00000300": "k00000300", "k00000300": "K00000300", "Café-1": "CAFE-1", "CAFE-1": "Café-1"} {
			if !strings.Contains(msgs[ref], `"`+other+`"`) {
				t.Errorf("row error of %s: %q, want it to name %s", ref, msgs[ref], other)
			}
		}
		if a := out.Plan.Rows; a != 5 || out.Plan.InvalidRows != 4 {
			t.Errorf("rows %d, invalid %d; want 5 and 4", a, out.Plan.InvalidRows)
		}
	})

	t.Run("beside another row error", func(t *testing.T) {
		// The folded references' errors are kept beside a row's own error
		// (they were lost when the plan sealed its bounded error set).
		c := newCSVJob(t, csvConfig())
		out, err := c.run(t, append(export, "NONAME;;;")...)
		if got := sync.Classify(err); got != sync.ClassRowFailures {
			t.Fatalf("run = %v (class %d), want row failures (1)", err, got)
		}
		checkAccount(t, out.Dir)
		refs := map[string]bool{}
		for _, e := range out.Plan.RowErrors {
			refs[e.Reference] = true
		}
		for _, ref := range []string{"K00000300", "k00000300", "Café-1", "CAFE-1", "NONAME"} {
			if !refs[ref] {
				t.Errorf("no row error for %s among %d", ref, len(out.Plan.RowErrors))
			}
		}
		if out.Plan.InvalidRows != 5 || out.Plan.RowErrorCount() != 5 {
			t.Errorf("invalid %d, row errors %d; want 5 and 5", out.Plan.InvalidRows, out.Plan.RowErrorCount())
		}
	})

	t.Run("exact", func(t *testing.T) {
		c := newCSVJob(t, csvConfig())
		c.job.Settings.References = reference.Exact
		if _, err := c.run(t, export...); err != nil {
			t.Fatalf("run = %v, want all done", err)
		}
		if n := c.store.Len(); n != 5 {
			t.Errorf("the CRM holds %d customers, want 5", n)
		}
	})
}

// TestPlan_DigitsOnlyParentWarned (issue 21 §5): a parent reference of
// digits only may be read as an id by the CRM: a warning on its row, at
// every plan (the row is sent; the answer's check catches a wrong parent).
func TestPlan_DigitsOnlyParentWarned(t *testing.T) {
	c := newCSVJob(t, csvConfig())
	export := []string{"reference;name;parent;email", "1001;Parent;;", "SUB;Sub;1001;", "SUB2;Sub two;P-1001;", "P-1001;P;;"}
	for run := 1; run <= 2; run++ {
		out, err := c.run(t, export...)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		var warned []string
		for _, w := range out.Plan.Warnings {
			warned = append(warned, w.Reference+": "+w.Error())
		}
		if len(warned) != 1 || !strings.HasPrefix(warned[0], "SUB: ") || !strings.Contains(warned[0], "id") {
			t.Errorf("run %d: warnings %q, want one on SUB saying the CRM may read 1001 as an id", run, warned)
		}
	}
	if _, err := c.job.State.Count(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestPlan_DigitsOnlyParentWarnedBesideOthers: the digits-only parent's
// warning goes through the plan's bounded warnings: kept beside another
// warning (an email without @), counted by kind, its parent quoted short.
func TestPlan_DigitsOnlyParentWarnedBesideOthers(t *testing.T) {
	c := newCSVJob(t, csvConfig())
	long := strings.Repeat("7", 5000)
	export := []string{"reference;name;parent;email", "1001;Parent;;", "SUB;Sub;1001;", "BAD;Bad mail;;nope",
		long + ";Long;;", "SUB2;Sub two;" + long + ";"}
	out, err := c.run(t, export...)
	if out == nil || out.Plan == nil {
		t.Fatalf("run: %v", err)
	}
	byRef := map[string]string{}
	for _, w := range out.Plan.Warnings {
		byRef[w.Reference] = w.Error()
	}
	if !strings.Contains(byRef["SUB"], "1001") || byRef["BAD"] == "" {
		t.Errorf("warnings %q, want SUB's digits-only parent and BAD's email", byRef)
	}
	if w := byRef["SUB2"]; w == "" || len(w) > 1000 {
		t.Errorf("SUB2's warning is %d bytes, want one quoting its parent short", len(w))
	}
	if n := out.Plan.WarningCount(); n != 3 {
		t.Errorf("WarningCount %d, want 3", n)
	}
}

// TestBuildPlan_FoldedReferencesQuotedShort: references that fold
// together are each quoted short (mapping.Excerpt), and an error names at
// most five others, counting the rest: two 200 KB references, or forty
// spellings of one, do not make errors of megabytes.
func TestBuildPlan_FoldedReferencesQuotedShort(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	rows := []mapping.Row{plantest.Cust(2, long+"a"), plantest.Cust(3, strings.ToUpper(long)+"A")}
	for i := range 40 { // abcdef in 40 spellings of its case
		ref := []byte("abcdef")
		for b := range 6 {
			if i&(1<<b) != 0 {
				ref[b] -= 'a' - 'A'
			}
		}
		rows = append(rows, plantest.Cust(4+i, string(ref)))
	}
	p, err := plan.Build(context.Background(), plantest.Rows(rows...), plantest.MemCheckpoint{}, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := p.RowErrorCount(); n != 42 {
		t.Errorf("%d row errors, want 42", n)
	}
	for _, e := range p.RowErrors {
		if msg := e.Err.Error(); len(msg) > 2000 {
			t.Errorf("line %d: a row error of %d bytes, want under 2000", e.Line, len(msg))
		} else if e.Line > 3 && !strings.Contains(msg, "and 34 more") {
			t.Errorf("line %d: %q, want five others named and 34 counted", e.Line, msg)
		}
	}
}
