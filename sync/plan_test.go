package sync_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync"
)

// memCheckpoint is an in-memory checkpoint: the plan is a pure function,
// table-tested without disk (state has its own tests on real SQLite).
type memCheckpoint map[string]*state.Record

func (m memCheckpoint) Hashes(_ context.Context, fn func(ref, hash string) error) error {
	for _, ref := range slices.Sorted(maps.Keys(m)) {
		if err := fn(ref, m[ref].Hash); err != nil {
			return err
		}
	}
	return nil
}

func (m memCheckpoint) Count(context.Context) (int, error) { return len(m), nil }

func (m memCheckpoint) Get(_ context.Context, ref string) (*state.Record, error) { return m[ref], nil }

// cust builds an export customer; fields are "key=value" pairs. Its hash
// is derived from its fields, as mapping does.
func cust(line int, ref string, fields ...string) mapping.Row {
	f := map[string]string{"name": "Name of " + ref}
	for _, kv := range fields {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	return mapping.Row{Line: line, Customer: mapping.NewCustomer(ref, line, f, fakeHash(f))}
}

func flagged(line int, ref string) mapping.Row {
	c := mapping.NewCustomer(ref, line, map[string]string{"reference": ref}, fakeHash(nil))
	c.Delete = true
	return mapping.Row{Line: line, Customer: c}
}

func bad(line int, ref string) mapping.Row {
	return mapping.Row{Line: line, Err: &mapping.RowError{File: "x.csv", Line: line, Column: "creditLimit", Reference: ref, Err: errors.New("bad number")}}
}

// fakeHash is a stable hex hash of fields.
func fakeHash(f map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(f)) {
		b.WriteString(k + "=" + f[k] + ";")
	}
	var h uint64 = 14695981039346656037
	for _, c := range []byte(b.String()) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%016x%048x", h, 0)
}

// managed returns a checkpoint record as if row had been pushed.
func managed(r mapping.Row) *state.Record {
	c := r.Customer
	return &state.Record{Reference: c.Reference, Hash: c.Hash, Values: c.Fields(), CRMID: int64(r.Line)}
}

func checkpoint(rows ...mapping.Row) memCheckpoint {
	m := memCheckpoint{}
	for _, r := range rows {
		m[r.Customer.Reference] = managed(r)
	}
	return m
}

func rowsOf(rows ...mapping.Row) sync.Rows {
	return func(fn func(mapping.Row) error) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// layout writes a plan as "op:ref" per wave, e.g. "create:P | create:C || delete:X".
func layout(p *sync.Plan) string {
	var parts []string
	for _, waves := range [][][]*sync.Action{p.Upserts, p.Deletes} {
		var ws []string
		for _, w := range waves {
			var as []string
			for _, a := range w {
				as = append(as, string(a.Op)+":"+a.Reference)
			}
			ws = append(ws, strings.Join(as, " "))
		}
		parts = append(parts, strings.Join(ws, " | "))
	}
	return strings.Join(parts, " || ")
}

func errLines(p *sync.Plan) []string {
	var out []string
	for _, e := range p.RowErrors {
		out = append(out, fmt.Sprintf("%d %s", e.Line, e.Reference))
	}
	return out
}

var tenPercent = sync.Limit{Percent: 10, IsPercent: true}

func TestBuildPlan(t *testing.T) {
	a1, b1, c1 := cust(2, "A"), cust(3, "B"), cust(4, "C")
	all := sync.Limit{Percent: 100, IsPercent: true}

	for _, tc := range []struct {
		name      string
		rows      []mapping.Row
		cp        memCheckpoint
		opt       sync.PlanOptions
		layout    string
		unchanged int
		errs      []string
		guard     string
	}{
		{
			name:   "day one: all new, file order",
			rows:   []mapping.Row{a1, b1},
			cp:     memCheckpoint{},
			layout: "create:A create:B || ",
		},
		{
			name:   "sub-customer listed before its parent",
			rows:   []mapping.Row{cust(2, "CHILD", "parentCustomer=PARENT"), cust(3, "PARENT"), cust(4, "GRANDCHILD", "parentCustomer=CHILD")},
			cp:     memCheckpoint{},
			layout: "create:PARENT | create:CHILD | create:GRANDCHILD || ",
		},
		{
			name:   "sub-customer of an unchanged parent goes in the first wave",
			rows:   []mapping.Row{cust(2, "CHILD", "parentCustomer=A"), a1},
			cp:     checkpoint(a1),
			layout: "create:CHILD || ", unchanged: 1,
		},
		{
			name:      "unchanged rerun plans nothing",
			rows:      []mapping.Row{a1, b1, c1},
			cp:        checkpoint(a1, b1, c1),
			layout:    " || ",
			unchanged: 3,
		},
		{
			name:      "a changed value is an update",
			rows:      []mapping.Row{a1, cust(3, "B", "email=new@example.com"), c1},
			cp:        checkpoint(a1, b1, c1),
			layout:    "update:B || ",
			unchanged: 2,
		},
		{
			name:      "moved sub-customer follows its new parent",
			rows:      []mapping.Row{cust(2, "KID", "parentCustomer=NEWP"), cust(3, "NEWP"), a1},
			cp:        checkpoint(cust(2, "KID", "parentCustomer=A"), a1),
			layout:    "create:NEWP | update:KID || ",
			unchanged: 1,
		},
		{
			name:      "never mode does not delete the absent",
			rows:      []mapping.Row{a1},
			cp:        checkpoint(a1, b1),
			opt:       sync.PlanOptions{Deletes: sync.DeletesNever, MaxDelete: all},
			layout:    " || ",
			unchanged: 1,
		},
		{
			name:      "mirror deletes the absent, sub-customers first",
			rows:      []mapping.Row{a1},
			cp:        checkpoint(a1, cust(3, "P"), cust(4, "K", "parentCustomer=P"), cust(5, "G", "parentCustomer=K")),
			opt:       sync.PlanOptions{Deletes: sync.DeletesMirror, MaxDelete: all},
			layout:    " || delete:G | delete:K | delete:P",
			unchanged: 1,
		},
		{
			name:      "an invalid row is neither updated nor deleted",
			rows:      []mapping.Row{a1, bad(3, "B")},
			cp:        checkpoint(a1, b1),
			opt:       sync.PlanOptions{Deletes: sync.DeletesMirror, MaxDelete: all},
			layout:    " || ",
			unchanged: 1,
			errs:      []string{"3 B"},
		},
		{
			name:      "a flagged row is a delete; one never created costs nothing",
			rows:      []mapping.Row{a1, flagged(3, "B"), flagged(4, "NEVER")},
			cp:        checkpoint(a1, b1),
			opt:       sync.PlanOptions{MaxDelete: all},
			layout:    " || delete:B",
			unchanged: 1,
		},
		{
			name:   "a parent cycle is a row error for each row in it",
			rows:   []mapping.Row{cust(2, "X", "parentCustomer=Y"), cust(3, "Y", "parentCustomer=X"), a1},
			cp:     memCheckpoint{},
			layout: "create:A || ",
			errs:   []string{"2 X", "3 Y"},
		},
		{
			name:   "a parent nowhere is a row error, and so are its sub-customers",
			rows:   []mapping.Row{cust(2, "ORPHAN", "parentCustomer=GHOST"), cust(3, "GRAND", "parentCustomer=ORPHAN"), a1},
			cp:     memCheckpoint{},
			layout: "create:A || ",
			errs:   []string{"2 ORPHAN", "3 GRAND"},
		},
		{
			name:   "a parent that only the CRM has is fine",
			rows:   []mapping.Row{cust(2, "KID", "parentCustomer=IN-CRM")},
			cp:     memCheckpoint{},
			opt:    sync.PlanOptions{ParentInCRM: func(ref string) (bool, error) { return ref == "IN-CRM", nil }},
			layout: "create:KID || ",
		},
		{
			name:   "duplicate references with differing rows are all rejected",
			rows:   []mapping.Row{cust(2, "D", "email=one"), a1, cust(4, "D", "email=two")},
			cp:     memCheckpoint{},
			layout: "create:A || ",
			errs:   []string{"2 D"},
		},
		{
			name:   "identical duplicate rows are one customer",
			rows:   []mapping.Row{a1, cust(3, "A")},
			cp:     memCheckpoint{},
			layout: "create:A || ",
		},
		{
			name:      "drift with erp_wins puts the record back",
			rows:      []mapping.Row{a1, b1},
			cp:        checkpoint(a1, b1),
			opt:       sync.PlanOptions{DriftPolicy: sync.DriftERPWins, Drift: []sync.Drift{{Reference: "B"}}},
			layout:    "update:B || ",
			unchanged: 1,
		},
		{
			name:      "drift with report lists it and leaves it",
			rows:      []mapping.Row{a1, b1},
			cp:        checkpoint(a1, b1),
			opt:       sync.PlanOptions{DriftPolicy: sync.DriftReport, Drift: []sync.Drift{{Reference: "B"}}},
			layout:    " || ",
			unchanged: 2,
		},
		{
			name:   "max_delete as a count",
			rows:   []mapping.Row{a1},
			cp:     checkpoint(a1, b1, c1),
			opt:    sync.PlanOptions{Deletes: sync.DeletesMirror, MaxDelete: sync.Limit{Count: 1}},
			layout: " || delete:B delete:C", unchanged: 1,
			guard: "max_delete",
		},
		{
			name:   "max_delete as a percentage",
			rows:   []mapping.Row{a1, b1},
			cp:     checkpoint(a1, b1, c1),
			opt:    sync.PlanOptions{Deletes: sync.DeletesMirror, MaxDelete: tenPercent},
			layout: " || delete:C", unchanged: 2,
			guard: "max_delete",
		},
		{
			name:   "an empty export in mirror mode",
			rows:   nil,
			cp:     checkpoint(a1),
			opt:    sync.PlanOptions{Deletes: sync.DeletesMirror, MaxDelete: all},
			layout: " || delete:A",
			guard:  "empty export",
		},
		{
			name:   "rows given out of line order: waves by line, parents found",
			rows:   []mapping.Row{cust(5, "P"), cust(2, "K", "parentCustomer=P"), cust(4, "D"), cust(3, "D"), cust(6, "X", "parentCustomer=NOWHERE")},
			cp:     memCheckpoint{},
			layout: "create:D create:P | create:K || ",
			errs:   []string{"6 X"},
		},
		{
			name:   "import plans upserts only",
			rows:   []mapping.Row{cust(2, "A", "email=x"), flagged(3, "B")},
			cp:     checkpoint(a1, b1, c1),
			opt:    sync.PlanOptions{ImportOnly: true, Deletes: sync.DeletesMirror, Drift: []sync.Drift{{Reference: "C"}}},
			layout: "update:A || ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.File = "x.csv"
			plan, err := sync.BuildPlan(context.Background(), rowsOf(tc.rows...), tc.cp, tc.opt)
			var guard *sync.GuardError
			switch {
			case tc.guard == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.guard != "" && (!errors.As(err, &guard) || guard.Guard != tc.guard):
				t.Fatalf("err = %v, want guard %s", err, tc.guard)
			}
			if got := layout(plan); got != tc.layout {
				t.Errorf("layout = %q, want %q", got, tc.layout)
			}
			if plan.Unchanged != tc.unchanged {
				t.Errorf("unchanged = %d, want %d", plan.Unchanged, tc.unchanged)
			}
			if got := errLines(plan); !slices.Equal(got, tc.errs) {
				t.Errorf("row errors = %q, want %q", got, tc.errs)
			}
		})
	}
}

func TestBuildPlan_Changes(t *testing.T) {
	old := cust(2, "A", "email=old@example.com", "creditLimit=5000")
	now := cust(2, "A", "email=new@example.com", "creditLimit=5000")
	plan, err := sync.BuildPlan(context.Background(), rowsOf(now), checkpoint(old), sync.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acts := plan.Actions()
	if len(acts) != 1 {
		t.Fatalf("actions = %d", len(acts))
	}
	want := []sync.Change{{Field: "email", Old: "old@example.com", New: "new@example.com"}}
	if !slices.Equal(acts[0].Changes, want) {
		t.Errorf("changes = %+v, want %+v", acts[0].Changes, want)
	}
}

func TestBuildPlan_MappingChanged(t *testing.T) {
	// Under a new mapping every hash differs: A's values differ from those
	// last pushed, B's do not (issue 21 §3: compared by value, not sent).
	a, b := cust(2, "A", "email=new@x"), cust(3, "B")
	cp := checkpoint(cust(2, "A", "email=old@x"), b)
	cp["A"].Hash = fakeHash(map[string]string{"other": "mapping", "ref": "A"})
	cp["B"].Hash = fakeHash(map[string]string{"other": "mapping", "ref": "B"})
	plan, err := sync.BuildPlan(context.Background(), rowsOf(a, b), cp, sync.PlanOptions{MappingChanged: true})
	if err != nil {
		t.Fatal(err)
	}
	acts := plan.Actions()
	if !plan.MappingChanged || len(acts) != 1 || acts[0].Reference != "A" || acts[0].Reason != sync.ReasonMappingChanged || plan.MappingUpdates != 1 {
		t.Fatalf("plan = %s, %d updates with the mapping; want one update of A, reason %q", layout(plan), plan.MappingUpdates, sync.ReasonMappingChanged)
	}
	if plan.Unchanged != 1 || len(plan.Rehashed) != 1 || plan.Rehashed[0].Reference != "B" || plan.Rehashed[0].Hash != b.Customer.Hash {
		t.Errorf("unchanged %d, rehashed %+v; want B unchanged, its new hash kept", plan.Unchanged, plan.Rehashed)
	}
}

// A create holds no list of changes; FieldChanges builds it: every mapped
// field, from empty.
func TestBuildPlan_CreateChanges(t *testing.T) {
	now := cust(2, "A", "email=new@example.com", "creditLimit=5000")
	plan, err := sync.BuildPlan(context.Background(), rowsOf(now), checkpoint(), sync.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acts := plan.Actions()
	if len(acts) != 1 || acts[0].Op != sync.OpCreate {
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
	slash, good := cust(2, "a/b", "name=Slash"), cust(3, "GOOD", "name=Good")
	cp := checkpoint(slash, good)
	opt := sync.PlanOptions{Deletes: sync.DeletesMirror, MaxDelete: sync.Limit{Percent: 100, IsPercent: true}}
	for name, rows := range map[string]sync.Rows{
		"row present": rowsOf(slash, good),
		"row gone":    rowsOf(good),
	} {
		p, err := sync.BuildPlan(context.Background(), rows, cp, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := p.Count(sync.OpDelete); n != 0 {
			t.Errorf("%s: %d deletes planned: %s", name, n, layout(p))
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
	rows := rowsOf(cust(2, "KID-1", "parentCustomer=OUT"), cust(3, "KID-2", "parentCustomer=OUT"))
	refused := errors.New("401 invalid_token")
	_, err := sync.BuildPlan(context.Background(), rows, memCheckpoint{}, sync.PlanOptions{
		ParentInCRM: func(string) (bool, error) { return false, refused },
	})
	if !errors.Is(err, refused) {
		t.Errorf("BuildPlan = %v, want the CRM's error", err)
	}
	asked := 0
	p, err := sync.BuildPlan(context.Background(), rows, memCheckpoint{}, sync.PlanOptions{
		ParentInCRM: func(string) (bool, error) { asked++; return true, nil },
	})
	if err != nil || p.Count(sync.OpCreate) != 2 || asked != 1 {
		t.Errorf("BuildPlan = %v, %d creates, parent asked %d times; want 2 creates, asked once", err, p.Count(sync.OpCreate), asked)
	}
}

// TestBuildPlan_RetriesFailedPush: a row unchanged in the export whose
// last push failed (a drift repair refused by the CRM, say) is sent
// again, since the failure kept the record at the row's own hash and the
// refresh no longer sees the hand edit.
func TestBuildPlan_RetriesFailedPush(t *testing.T) {
	a, b := cust(2, "A", "email=a@x"), cust(3, "B", "email=b@x")
	p, err := sync.BuildPlan(context.Background(), rowsOf(a, b), checkpoint(a, b), sync.PlanOptions{Retry: map[string]bool{"B": true}})
	if err != nil {
		t.Fatal(err)
	}
	acts := p.Actions()
	if len(acts) != 1 || acts[0].Reference != "B" || acts[0].Op != sync.OpUpdate || acts[0].Reason != sync.ReasonRetry || p.Unchanged != 1 {
		t.Errorf("plan %s (unchanged %d), want one update of B, reason %q", layout(p), p.Unchanged, sync.ReasonRetry)
	}
}
