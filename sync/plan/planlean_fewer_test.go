package plan_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
)

// fewerFieldsCase is n customers pushed with a name and an email, read
// again with the name alone mapped (the same name): every row is an
// update by its hash, the same by value, with a field no longer mapped.
func fewerFieldsCase(n int) (plan.Rows, plantest.MemCheckpoint) {
	row := func(i int) mapping.Row {
		f := map[string]string{"name": fmt.Sprint("Name ", i)}
		return mapping.Row{Line: 2 + i, Customer: mapping.NewCustomer(fmt.Sprintf("K%05d", i), 2+i, f, plantest.FakeHash(f))}
	}
	cp := plantest.MemCheckpoint{}
	for i := range n {
		ref := fmt.Sprintf("K%05d", i)
		vals := map[string]string{"name": fmt.Sprint("Name ", i), "email": ref + "@x.example"}
		cp[ref] = &state.Record{Reference: ref, Hash: plantest.FakeHash(vals), Values: vals, CRMID: int64(i + 1)}
	}
	rows := func(fn func(mapping.Row) error) error {
		for i := range n {
			if err := fn(row(i)); err != nil {
				return err
			}
		}
		return nil
	}
	return rows, cp
}

// TestBuildPlan_LeanFewerFieldsBounded (review, point B): after a mapping
// change that drops a field, a lean plan kept every such update's values
// (a map a customer) until the plan's end, and then in Plan.Rehashed for
// the whole run: 50,000 updates held 17 MiB more. The plan keeps the
// mapped fields' names once, shared; the checkpoint drops the others.
// 10,000 updates: 136 bytes held each, 489 with the values kept.
func TestBuildPlan_LeanFewerFieldsBounded(t *testing.T) {
	const n = 10_000
	rows, cp := fewerFieldsCase(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := plan.Build(context.Background(), rows, cp, plan.Options{ImportOnly: true, Lean: true, MappingChanged: true})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
	t.Logf("heap held by the plan: %.1f MiB (%d bytes a rehashed record)", float64(held)/(1<<20), held/n)
	if p.Unchanged != n || len(p.Rehashed) != n || p.Count(plan.OpUpdate) != 0 {
		t.Fatalf("unchanged %d, rehashed %d, updates %d; want %d, %d, 0", p.Unchanged, len(p.Rehashed), p.Count(plan.OpUpdate), n, n)
	}
	if per := held / n; per > 300 { // 136 measured, 489 with the values kept
		t.Errorf("%d bytes held a rehashed record, want under 300: its values are kept", per)
	}
	runtime.KeepAlive(p)
	runtime.KeepAlive(cp)
}

// TestBuildPlan_LeanFewerFieldsSameAsFull: a lean plan and a full one
// decide the same after a mapping change that drops a field, and keep
// the same Rehashed: the mapped fields' names, for the checkpoint to drop
// the others' values (no values of their own).
func TestBuildPlan_LeanFewerFieldsSameAsFull(t *testing.T) {
	rows, cp := fewerFieldsCase(3000)
	mixed := func(fn func(mapping.Row) error) error {
		return rows(func(r mapping.Row) error {
			if r.Line%3 == 0 { // a value changed too: sent
				f := r.Customer.Fields()
				f["name"] += " changed"
				r.Customer = mapping.NewCustomer(r.Customer.Reference, r.Line, f, plantest.FakeHash(f))
			}
			return fn(r)
		})
	}
	build := func(lean bool) *plan.Plan {
		p, err := plan.Build(context.Background(), mixed, cp, plan.Options{ImportOnly: true, Lean: lean, MappingChanged: true})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	lean, full := build(true), build(false)
	if lean.Unchanged != full.Unchanged || lean.Count(plan.OpUpdate) != full.Count(plan.OpUpdate) ||
		lean.MappingUpdates != full.MappingUpdates || lean.Unchanged != 2000 {
		t.Errorf("lean: unchanged %d, updates %d, mapping %d; full: %d, %d, %d; want 2000 unchanged",
			lean.Unchanged, lean.Count(plan.OpUpdate), lean.MappingUpdates, full.Unchanged, full.Count(plan.OpUpdate), full.MappingUpdates)
	}
	rehashed := func(p *plan.Plan) map[string]string {
		out := map[string]string{}
		for _, r := range p.Rehashed {
			if r.Values != nil {
				t.Errorf("%s rehashed with values of its own: %v", r.Reference, r.Values)
			}
			out[r.Reference] = fmt.Sprint(r.Hash, r.Sum, r.Keep)
		}
		return out
	}
	l, f := rehashed(lean), rehashed(full)
	if len(l) != 2000 || fmt.Sprint(l) != fmt.Sprint(f) {
		t.Errorf("rehashed: lean %d, full %d, differing", len(l), len(f))
	}
	for _, r := range lean.Rehashed {
		if fmt.Sprint(r.Keep) != "map[name:true]" {
			t.Fatalf("%s keeps %v, want name alone", r.Reference, r.Keep)
		}
	}
	if fmt.Sprintf("%p", lean.Rehashed[0].Keep) != fmt.Sprintf("%p", lean.Rehashed[1].Keep) {
		t.Errorf("the rehashed records do not share their set of mapped fields")
	}
}
