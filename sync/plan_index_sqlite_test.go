package sync_test

// A test of sync/plan that needs the SQLite checkpoint (the plan's packed index on SQLite's stretches and hash heads).
// It lives in the engine's test binary, which links SQLite anyway, so
// that sync/plan's own binary links no cgo (an external link through
// gcc: 1-1.5 CPU s more in every go test ./...). sync/plan's other tests
// run on memstate, which reads stretches and row sums as SQLite does.

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
)

// TestBuildPlan_IndexOnSQLite plans against a real checkpoint of 1,000
// references (many stretches of the index) an export that is out of
// order, lacks references in several stretches of 16 (the first, the
// last, a stretch's last alone, the next one's first alone, a whole
// stretch) and adds new ones: the plan is the one planned against the
// same checkpoint held in memory, which streams everything.
func TestBuildPlan_IndexOnSQLite(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mem := plantest.MemCheckpoint{}
	w := db.NewWriter(100, time.Second)
	const n = 1000
	for i := range n {
		row := plantest.Cust(i+2, fmt.Sprintf("R%04d", i), fmt.Sprintf("city=c%d", i))
		c := row.Customer
		mem[c.Reference] = &state.Record{Reference: c.Reference, Hash: c.Hash, Values: c.Fields()}
		if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: c.Reference, Hash: c.Hash, Values: c.Fields()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	absent := func(i int) bool {
		return i == 0 || i == 447 || i == 448 || i == 463 || i == 464 || i == n-1 || i%301 == 5 || (i >= 128 && i < 192)
	}
	var rows []mapping.Row
	for j := range n {
		i := (j * 7) % n // out of order
		if absent(i) {
			continue
		}
		city := fmt.Sprintf("city=c%d", i)
		if i%50 == 3 {
			city = "city=changed"
		}
		rows = append(rows, plantest.Cust(j+2, fmt.Sprintf("R%04d", i), city))
	}
	rows = append(rows, plantest.Cust(n+5, "R9999", "city=new"))
	opt := plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true})}
	got, err := plan.Build(ctx, plantest.Rows(rows...), db, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plan.Build(ctx, plantest.Rows(rows...), mem, opt)
	if err != nil {
		t.Fatal(err)
	}
	wantDeletes := 0
	for i := range n {
		if absent(i) {
			wantDeletes++
		}
	}
	if d := got.Count(plan.OpDelete); d != wantDeletes || d != want.Count(plan.OpDelete) {
		t.Errorf("deletes: %d on SQLite, %d in memory, want %d", d, want.Count(plan.OpDelete), wantDeletes)
	}
	if !slices.Equal(planSummary(got), planSummary(want)) {
		t.Errorf("plan on SQLite:\n%v\nin memory:\n%v", planSummary(got), planSummary(want))
	}
	if got.Unchanged != want.Unchanged || got.Managed != n {
		t.Errorf("unchanged %d/%d, managed %d", got.Unchanged, want.Unchanged, got.Managed)
	}
}

// planSummary lists a plan's actions as "op ref reason", in order.
func planSummary(p *plan.Plan) []string {
	var out []string
	for _, a := range p.Actions() {
		out = append(out, fmt.Sprintf("%s %s %s", a.Op, a.Reference, a.Reason))
	}
	return out
}
