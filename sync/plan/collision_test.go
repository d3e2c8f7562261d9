package plan_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
)

// TestBuildPlan_HashCollisions plans against a real checkpoint while the
// index's 64-bit hash of references is forced to collide: two managed
// references in distant stretches of the checkpoint, two in the same
// stretch of 16, and a managed reference with a new one (before the
// checkpoint's first reference, and after its last). The plan is the one
// planned with the real hash: each reference keeps its own fate.
func TestBuildPlan_HashCollisions(t *testing.T) {
	ctx := context.Background()
	db := memstate.New() // a checkpoint read by stretches (HashesBetween), as SQLite's
	defer db.Close()
	const n = 200
	w := db.NewWriter(100, time.Second)
	for i := range n {
		c := plantest.Cust(i+2, fmt.Sprintf("R%04d", i), fmt.Sprintf("city=c%d", i)).Customer
		if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: c.Reference, Hash: c.Hash, Values: c.Fields()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The groups of references that share a hash.
	forced := map[string]uint64{
		"R0003": 11, "R0150": 11, // managed, distant stretches: unchanged, absent
		"R0020": 12, "R0021": 12, // managed, one stretch: changed, absent
		"R0040": 13, "A0001": 13, // managed absent, new before the first
		"R0060": 14, "Z0001": 14, // managed changed, new after the last
		"R0080": 15, "R0081": 15, "R0082": 15, // one stretch: unchanged, changed, unchanged
	}
	key := func(ref string) uint64 {
		if k, ok := forced[ref]; ok {
			return k
		}
		h := fnv.New64a()
		h.Write([]byte(ref))
		return h.Sum64() | 1<<63 // never one of the forced keys
	}
	changed := map[int]bool{20: true, 60: true, 81: true}
	absent := map[int]bool{150: true, 21: true, 40: true, 7: true}
	rows := []mapping.Row{plantest.Cust(1, "A0001", "city=new")}
	for i := range n {
		if absent[i] {
			continue
		}
		city := fmt.Sprintf("city=c%d", i)
		if changed[i] {
			city = "city=changed"
		}
		rows = append(rows, plantest.Cust(i+2, fmt.Sprintf("R%04d", i), city))
	}
	rows = append(rows, plantest.Cust(n+5, "Z0001", "city=new"))
	opt := plan.Options{Deletes: policy.DeletesMirror} // max_delete unset: off
	want, err := plan.Build(ctx, sliceRows(rows), db, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := plan.Build(ctx, sliceRows(rows), db, plan.WithKey(opt, key))
	if err != nil {
		t.Fatal(err)
	}
	wantActions := []string{
		"create A0001 new", "update R0020 changed", "update R0060 changed", "update R0081 changed", "create Z0001 new",
		"delete R0007 absent from the export", "delete R0021 absent from the export",
		"delete R0040 absent from the export", "delete R0150 absent from the export",
	}
	sorted := func(p *plan.Plan) []string { return slices.Sorted(slices.Values(summary(p))) }
	if !slices.Equal(sorted(want), slices.Sorted(slices.Values(wantActions))) {
		t.Fatalf("with the real hash:\n%v\nwant:\n%v", summary(want), wantActions)
	}
	mem := plantest.MemCheckpoint{} // read whole, not by stretches
	if err := db.Records(ctx, func(r state.Record) error { mem[r.Reference] = &r; return nil }); err != nil {
		t.Fatal(err)
	}
	inMem, err := plan.Build(ctx, sliceRows(rows), mem, plan.WithKey(opt, key))
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*plan.Plan{"on SQLite": got, "in memory": inMem} {
		if !slices.Equal(sorted(p), sorted(want)) {
			t.Errorf("with colliding hashes, %s:\n%v\nwant:\n%v", name, summary(p), summary(want))
		}
		if p.Unchanged != want.Unchanged || p.Managed != n || p.Rows != want.Rows || len(p.Merged)+len(p.Conflicts) != 0 {
			t.Errorf("%s: unchanged %d (want %d), managed %d, rows %d (want %d), merged %v, conflicts %v",
				name, p.Unchanged, want.Unchanged, p.Managed, p.Rows, want.Rows, p.Merged, p.Conflicts)
		}
	}
}

// sliceRows streams rows as an export would.
func sliceRows(rows []mapping.Row) plan.Rows {
	return func(fn func(mapping.Row) error) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// summary lists a plan's actions as "op ref reason", in order.
func summary(p *plan.Plan) []string {
	var out []string
	for _, a := range p.Actions() {
		out = append(out, fmt.Sprintf("%s %s %s", a.Op, a.Reference, a.Reason))
	}
	return out
}
