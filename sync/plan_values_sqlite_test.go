package sync_test

// A test of sync/plan that needs the SQLite checkpoint (the plan's old values read by SQLite's ValuesOf).
// It lives in the engine's test binary, which links SQLite anyway, so
// that sync/plan's own binary links no cgo (an external link through
// gcc: 1-1.5 CPU s more in every go test ./...). sync/plan's other tests
// run on memstate, which reads stretches and row sums as SQLite does.

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
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

// valuesCountingDB is a real checkpoint that counts the statements
// reading records' values: one reference's (Values, Get) or many's
// (ValuesOf).
type valuesCountingDB struct {
	*sqlite.DB
	one, many atomic.Int32
}

func (d *valuesCountingDB) Values(ctx context.Context, ref string) (map[string]string, error) {
	d.one.Add(1)
	return d.DB.Values(ctx, ref)
}

func (d *valuesCountingDB) Get(ctx context.Context, ref string) (*state.Record, error) {
	d.one.Add(1)
	return d.DB.Get(ctx, ref)
}

func (d *valuesCountingDB) ValuesOf(ctx context.Context, refs []string, fn func(ref string, vals map[string]string) error) error {
	d.many.Add(1)
	return d.DB.ValuesOf(ctx, refs, fn)
}

// TestBuildPlan_OldValuesInBatches: the values last pushed of a plan's
// updates (their changes, old → new) and of its deletes (their parents:
// children deleted first) are read many references a statement, not one
// each (15,000 statements on day 2 of a million: 0.55 CPU s); the plan is
// the one planned against the checkpoint held in memory.
func TestBuildPlan_OldValuesInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mem := plantest.MemCheckpoint{}
	w := db.NewWriter(500, time.Second)
	const n = 1500
	var rows []mapping.Row
	for i := range n {
		fields := []string{fmt.Sprintf("city=c%d", i)}
		if i%10 > 0 { // parents among the deletes: children first
			fields = append(fields, fmt.Sprintf("parentCustomer=R%04d", i-i%10))
		}
		c := plantest.Cust(i+2, fmt.Sprintf("R%04d", i), fields...).Customer
		mem[c.Reference] = &state.Record{Reference: c.Reference, Hash: c.Hash, Values: c.Fields()}
		if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: c.Reference, Hash: c.Hash, Values: c.Fields()}); err != nil {
			t.Fatal(err)
		}
		switch {
		case i/10%4 == 1: // a family absent: deleted
		case i%3 == 0: // changed: updated
			rows = append(rows, plantest.Cust(i+2, c.Reference, append(fields[1:], fmt.Sprintf("city=d%d", i))...))
		default:
			rows = append(rows, plantest.Cust(i+2, c.Reference, fields...))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cdb := &valuesCountingDB{DB: db}
	opt := plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true})}
	got, err := plan.Build(ctx, plantest.Rows(rows...), cdb, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plan.Build(ctx, plantest.Rows(rows...), mem, opt)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := changesOf(got), changesOf(want); g != w {
		t.Errorf("plan on SQLite:\n%s\nin memory:\n%s", g, w)
	}
	updates, deletes := got.Count(plan.OpUpdate), got.Count(plan.OpDelete)
	if updates < 200 || deletes < 300 || len(got.Deletes) != 2 {
		t.Fatalf("%d updates, %d deletes in %d waves: the case lacks its batches", updates, deletes, len(got.Deletes))
	}
	if one, many := cdb.one.Load(), cdb.many.Load(); one > 0 || int(many) > (updates+deletes)/100 {
		t.Errorf("%d updates and %d deletes read their values in %d statements of one reference and %d of many",
			updates, deletes, one, many)
	}
}

// changesOf lists a plan's actions in order with their parents and
// changes.
func changesOf(p *plan.Plan) string {
	out := plantest.Layout(p) + "\n"
	for _, a := range p.Actions() {
		out += fmt.Sprintf("%s %s %s parent=%q %v\n", a.Op, a.Reference, a.Reason, a.Parent, a.FieldChanges())
	}
	return out
}
