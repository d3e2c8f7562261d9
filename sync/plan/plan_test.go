package plan_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
)

func errLines(p *plan.Plan) []string {
	var out []string
	for _, e := range p.RowErrors {
		out = append(out, fmt.Sprintf("%d %s", e.Line, e.Reference))
	}
	return out
}

var tenPercent = plan.Limit{Percent: 10, IsPercent: true}

func TestBuildPlan(t *testing.T) {
	a1, b1, c1 := plantest.Cust(2, "A"), plantest.Cust(3, "B"), plantest.Cust(4, "C")
	all := plan.Limit{Percent: 100, IsPercent: true}

	for _, tc := range []struct {
		name      string
		rows      []mapping.Row
		cp        plantest.MemCheckpoint
		opt       plan.Options
		layout    string
		unchanged int
		errs      []string
		guard     string
	}{
		{
			name:   "day one: all new, file order",
			rows:   []mapping.Row{a1, b1},
			cp:     plantest.MemCheckpoint{},
			layout: "create:A create:B || ",
		},
		{
			name:   "sub-customer listed before its parent",
			rows:   []mapping.Row{plantest.Cust(2, "CHILD", "parentCustomer=PARENT"), plantest.Cust(3, "PARENT"), plantest.Cust(4, "GRANDCHILD", "parentCustomer=CHILD")},
			cp:     plantest.MemCheckpoint{},
			layout: "create:PARENT | create:CHILD | create:GRANDCHILD || ",
		},
		{
			name:   "sub-customer of an unchanged parent goes in the first wave",
			rows:   []mapping.Row{plantest.Cust(2, "CHILD", "parentCustomer=A"), a1},
			cp:     plantest.Checkpoint(a1),
			layout: "create:CHILD || ", unchanged: 1,
		},
		{
			name:      "unchanged rerun plans nothing",
			rows:      []mapping.Row{a1, b1, c1},
			cp:        plantest.Checkpoint(a1, b1, c1),
			layout:    " || ",
			unchanged: 3,
		},
		{
			name:      "a changed value is an update",
			rows:      []mapping.Row{a1, plantest.Cust(3, "B", "email=new@example.com"), c1},
			cp:        plantest.Checkpoint(a1, b1, c1),
			layout:    "update:B || ",
			unchanged: 2,
		},
		{
			name:      "moved sub-customer follows its new parent",
			rows:      []mapping.Row{plantest.Cust(2, "KID", "parentCustomer=NEWP"), plantest.Cust(3, "NEWP"), a1},
			cp:        plantest.Checkpoint(plantest.Cust(2, "KID", "parentCustomer=A"), a1),
			layout:    "create:NEWP | update:KID || ",
			unchanged: 1,
		},
		{
			name:      "never mode does not delete the absent",
			rows:      []mapping.Row{a1},
			cp:        plantest.Checkpoint(a1, b1),
			opt:       plan.Options{Deletes: policy.DeletesNever, MaxDelete: guard.On(all)},
			layout:    " || ",
			unchanged: 1,
		},
		{
			name:      "mirror deletes the absent, sub-customers first",
			rows:      []mapping.Row{a1},
			cp:        plantest.Checkpoint(a1, plantest.Cust(3, "P"), plantest.Cust(4, "K", "parentCustomer=P"), plantest.Cust(5, "G", "parentCustomer=K")),
			opt:       plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(all)},
			layout:    " || delete:G | delete:K | delete:P",
			unchanged: 1,
		},
		{
			name:      "an invalid row is neither updated nor deleted",
			rows:      []mapping.Row{a1, plantest.Bad(3, "B")},
			cp:        plantest.Checkpoint(a1, b1),
			opt:       plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(all)},
			layout:    " || ",
			unchanged: 1,
			errs:      []string{"3 B"},
		},
		{
			name:      "a flagged row is a delete; one never created costs nothing",
			rows:      []mapping.Row{a1, plantest.Flagged(3, "B"), plantest.Flagged(4, "NEVER")},
			cp:        plantest.Checkpoint(a1, b1),
			opt:       plan.Options{MaxDelete: guard.On(all)},
			layout:    " || delete:B",
			unchanged: 1,
		},
		{
			name:   "a parent cycle is a row error for each row in it",
			rows:   []mapping.Row{plantest.Cust(2, "X", "parentCustomer=Y"), plantest.Cust(3, "Y", "parentCustomer=X"), a1},
			cp:     plantest.MemCheckpoint{},
			layout: "create:A || ",
			errs:   []string{"2 X", "3 Y"},
		},
		{
			name:   "a parent nowhere is a row error, and so are its sub-customers",
			rows:   []mapping.Row{plantest.Cust(2, "ORPHAN", "parentCustomer=GHOST"), plantest.Cust(3, "GRAND", "parentCustomer=ORPHAN"), a1},
			cp:     plantest.MemCheckpoint{},
			layout: "create:A || ",
			errs:   []string{"2 ORPHAN", "3 GRAND"},
		},
		{
			name:   "a parent that only the CRM has is fine",
			rows:   []mapping.Row{plantest.Cust(2, "KID", "parentCustomer=IN-CRM")},
			cp:     plantest.MemCheckpoint{},
			opt:    plan.Options{ParentInCRM: func(ref string) (bool, error) { return ref == "IN-CRM", nil }},
			layout: "create:KID || ",
		},
		{
			name:   "duplicate references with differing rows are all rejected",
			rows:   []mapping.Row{plantest.Cust(2, "D", "email=one"), a1, plantest.Cust(4, "D", "email=two")},
			cp:     plantest.MemCheckpoint{},
			layout: "create:A || ",
			errs:   []string{"2 D"},
		},
		{
			name:   "identical duplicate rows are one customer",
			rows:   []mapping.Row{a1, plantest.Cust(3, "A")},
			cp:     plantest.MemCheckpoint{},
			layout: "create:A || ",
		},
		{
			name:      "drift with erp_wins puts the record back",
			rows:      []mapping.Row{a1, b1},
			cp:        plantest.Checkpoint(a1, b1),
			opt:       plan.Options{DriftPolicy: policy.DriftERPWins, Drift: []plan.Drift{{Reference: "B"}}},
			layout:    "update:B || ",
			unchanged: 1,
		},
		{
			name:      "drift with report lists it and leaves it",
			rows:      []mapping.Row{a1, b1},
			cp:        plantest.Checkpoint(a1, b1),
			opt:       plan.Options{DriftPolicy: policy.DriftReport, Drift: []plan.Drift{{Reference: "B"}}},
			layout:    " || ",
			unchanged: 2,
		},
		{
			name:   "max_delete as a count",
			rows:   []mapping.Row{a1},
			cp:     plantest.Checkpoint(a1, b1, c1),
			opt:    plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Count: 1})},
			layout: " || delete:B delete:C", unchanged: 1,
			guard: "max_delete",
		},
		{
			name:   "max_delete as a percentage",
			rows:   []mapping.Row{a1, b1},
			cp:     plantest.Checkpoint(a1, b1, c1),
			opt:    plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(tenPercent)},
			layout: " || delete:C", unchanged: 2,
			guard: "max_delete",
		},
		{
			name:   "an empty export in mirror mode",
			rows:   nil,
			cp:     plantest.Checkpoint(a1),
			opt:    plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(all)},
			layout: " || delete:A",
			guard:  "empty export",
		},
		{
			name:   "rows given out of line order: waves by line, parents found",
			rows:   []mapping.Row{plantest.Cust(5, "P"), plantest.Cust(2, "K", "parentCustomer=P"), plantest.Cust(4, "D"), plantest.Cust(3, "D"), plantest.Cust(6, "X", "parentCustomer=NOWHERE")},
			cp:     plantest.MemCheckpoint{},
			layout: "create:D create:P | create:K || ",
			errs:   []string{"6 X"},
		},
		{
			name:   "import plans upserts only",
			rows:   []mapping.Row{plantest.Cust(2, "A", "email=x"), plantest.Flagged(3, "B")},
			cp:     plantest.Checkpoint(a1, b1, c1),
			opt:    plan.Options{ImportOnly: true, Deletes: policy.DeletesMirror, Drift: []plan.Drift{{Reference: "C"}}},
			layout: "update:A || ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.File = "x.csv"
			p, err := plan.Build(context.Background(), plantest.Rows(tc.rows...), tc.cp, tc.opt)
			var guard *guard.Error
			switch {
			case tc.guard == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.guard != "" && (!errors.As(err, &guard) || guard.Guard != tc.guard):
				t.Fatalf("err = %v, want guard %s", err, tc.guard)
			}
			if got := plantest.Layout(p); got != tc.layout {
				t.Errorf("layout = %q, want %q", got, tc.layout)
			}
			if p.Unchanged != tc.unchanged {
				t.Errorf("unchanged = %d, want %d", p.Unchanged, tc.unchanged)
			}
			if got := errLines(p); !slices.Equal(got, tc.errs) {
				t.Errorf("row errors = %q, want %q", got, tc.errs)
			}
		})
	}
}

func TestBuildPlan_Changes(t *testing.T) {
	old := plantest.Cust(2, "A", "email=old@example.com", "creditLimit=5000")
	now := plantest.Cust(2, "A", "email=new@example.com", "creditLimit=5000")
	p, err := plan.Build(context.Background(), plantest.Rows(now), plantest.Checkpoint(old), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acts := p.Actions()
	if len(acts) != 1 {
		t.Fatalf("actions = %d", len(acts))
	}
	want := []plan.Change{{Field: "email", Old: "old@example.com", New: "new@example.com"}}
	if !slices.Equal(acts[0].Changes, want) {
		t.Errorf("changes = %+v, want %+v", acts[0].Changes, want)
	}
}

func TestBuildPlan_MappingChanged(t *testing.T) {
	// Under a new mapping every hash differs: A's values differ from those
	// last pushed, B's do not (issue 21 §3: compared by value, not sent).
	a, b := plantest.Cust(2, "A", "email=new@x"), plantest.Cust(3, "B")
	cp := plantest.Checkpoint(plantest.Cust(2, "A", "email=old@x"), b)
	cp["A"].Hash = plantest.FakeHash(map[string]string{"other": "mapping", "ref": "A"})
	cp["B"].Hash = plantest.FakeHash(map[string]string{"other": "mapping", "ref": "B"})
	p, err := plan.Build(context.Background(), plantest.Rows(a, b), cp, plan.Options{MappingChanged: true})
	if err != nil {
		t.Fatal(err)
	}
	acts := p.Actions()
	if !p.MappingChanged || len(acts) != 1 || acts[0].Reference != "A" || acts[0].Reason != plan.ReasonMappingChanged || p.MappingUpdates != 1 {
		t.Fatalf("plan = %s, %d updates with the mapping; want one update of A, reason %q", plantest.Layout(p), p.MappingUpdates, plan.ReasonMappingChanged)
	}
	if p.Unchanged != 1 || len(p.Rehashed) != 1 || p.Rehashed[0].Reference != "B" || p.Rehashed[0].Hash != b.Customer.Hash {
		t.Errorf("unchanged %d, rehashed %+v; want B unchanged, its new hash kept", p.Unchanged, p.Rehashed)
	}
}

// A create holds no list of changes; FieldChanges builds it: every mapped
// field, from empty.
func TestBuildPlan_CreateChanges(t *testing.T) {
	now := plantest.Cust(2, "A", "email=new@example.com", "creditLimit=5000")
	p, err := plan.Build(context.Background(), plantest.Rows(now), plantest.Checkpoint(), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acts := p.Actions()
	if len(acts) != 1 || acts[0].Op != plan.OpCreate {
		t.Fatalf("actions = %+v", acts)
	}
	if acts[0].Changes != nil {
		t.Errorf("a create holds its changes: %+v", acts[0].Changes)
	}
	got := acts[0].FieldChanges()
	for _, ch := range got {
		if ch.Old != "" || ch.New != now.Customer.Field(ch.Field) {
			t.Errorf("change %+v, want from empty to %q", ch, now.Customer.Field(ch.Field))
		}
	}
	if len(got) != len(now.Customer.FieldNames()) {
		t.Errorf("changes = %+v, want one per mapped field (%v)", got, now.Customer.FieldNames())
	}
}

// TestBuildPlan_RefusedReferenceIsNotAbsent: a managed reference that
// CheckReference now refuses (a/b, managed before the check) is a row
// error while its row is present, and never a mirror delete; when its
// row is gone it is still not deleted by its path.
func TestBuildPlan_RefusedReferenceIsNotAbsent(t *testing.T) {
	slash, good := plantest.Cust(2, "a/b", "name=Slash"), plantest.Cust(3, "GOOD", "name=Good")
	cp := plantest.Checkpoint(slash, good)
	opt := plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true})}
	for name, rows := range map[string]plan.Rows{
		"row present": plantest.Rows(slash, good),
		"row gone":    plantest.Rows(good),
	} {
		p, err := plan.Build(context.Background(), rows, cp, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := p.Count(plan.OpDelete); n != 0 {
			t.Errorf("%s: %d deletes planned: %s", name, n, plantest.Layout(p))
		}
		if len(p.RowErrors) != 1 || p.RowErrors[0].Reference != "a/b" {
			t.Errorf("%s: row errors %v, want one naming a/b", name, errLines(p))
		}
	}
}

// TestBuildPlan_ParentQuestionFails: when the CRM cannot say whether a
// parent exists (auth refused, unreachable), the plan stops with that
// error instead of turning the children into row errors; and each parent
// is asked once, however many children it has.
func TestBuildPlan_ParentQuestionFails(t *testing.T) {
	rows := plantest.Rows(plantest.Cust(2, "KID-1", "parentCustomer=OUT"), plantest.Cust(3, "KID-2", "parentCustomer=OUT"))
	refused := errors.New("401 invalid_token")
	_, err := plan.Build(context.Background(), rows, plantest.MemCheckpoint{}, plan.Options{
		ParentInCRM: func(string) (bool, error) { return false, refused },
	})
	if !errors.Is(err, refused) {
		t.Errorf("BuildPlan = %v, want the CRM's error", err)
	}
	asked := 0
	p, err := plan.Build(context.Background(), rows, plantest.MemCheckpoint{}, plan.Options{
		ParentInCRM: func(string) (bool, error) { asked++; return true, nil },
	})
	if err != nil || p.Count(plan.OpCreate) != 2 || asked != 1 {
		t.Errorf("BuildPlan = %v, %d creates, parent asked %d times; want 2 creates, asked once", err, p.Count(plan.OpCreate), asked)
	}
}

// TestBuildPlan_RetriesFailedPush: a row unchanged in the export whose
// last push failed (a drift repair refused by the CRM, say) is sent
// again, since the failure kept the record at the row's own hash and the
// refresh no longer sees the hand edit.
func TestBuildPlan_RetriesFailedPush(t *testing.T) {
	a, b := plantest.Cust(2, "A", "email=a@x"), plantest.Cust(3, "B", "email=b@x")
	p, err := plan.Build(context.Background(), plantest.Rows(a, b), plantest.Checkpoint(a, b), plan.Options{Retry: map[string]bool{"B": true}})
	if err != nil {
		t.Fatal(err)
	}
	acts := p.Actions()
	if len(acts) != 1 || acts[0].Reference != "B" || acts[0].Op != plan.OpUpdate || acts[0].Reason != plan.ReasonRetry || p.Unchanged != 1 {
		t.Errorf("plan %s (unchanged %d), want one update of B, reason %q", plantest.Layout(p), p.Unchanged, plan.ReasonRetry)
	}
}
