package plan_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
)

// overlapDB is a real checkpoint (memstate: it reads stretches by
// HashesBetween, as SQLite's does) that notes whether two reads of its
// stretches ran at once: the first read waits (10 s at most) for a
// second to begin.
type overlapDB struct {
	*memstate.Mem
	active  atomic.Int32
	waited  atomic.Bool
	both    chan struct{}
	bothOne gosync.Once
}

func (o *overlapDB) HashesBetween(ctx context.Context, from, to string, fn func(ref, hash string) error) error {
	if o.active.Add(1) > 1 {
		o.bothOne.Do(func() { close(o.both) })
	}
	defer o.active.Add(-1)
	if o.waited.CompareAndSwap(false, true) {
		select {
		case <-o.both:
		case <-time.After(10 * time.Second):
		}
	}
	return o.Mem.HashesBetween(ctx, from, to, fn)
}

// TestBuildPlan_AbsentStretchesOnEveryCore: the stretches of the
// checkpoint that hold the absent references (a day's deletes: 5,000 at
// a million) are read on every core after the export, not one after the
// other; the plan is the one planned against the checkpoint held in
// memory.
func TestBuildPlan_AbsentStretchesOnEveryCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	ctx := context.Background()
	db := memstate.New()
	defer db.Close()
	mem := plantest.MemCheckpoint{}
	w := db.NewWriter(100, time.Second)
	const n = 2000
	var rows []mapping.Row
	for i := range n {
		row := plantest.Cust(i+2, fmt.Sprintf("R%04d", i), fmt.Sprintf("city=c%d", i))
		c := row.Customer
		mem[c.Reference] = &state.Record{Reference: c.Reference, Hash: c.Hash, Values: c.Fields()}
		if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: c.Reference, Hash: c.Hash, Values: c.Fields()}); err != nil {
			t.Fatal(err)
		}
		if i%7 != 3 { // every 7th absent: most stretches of 16
			rows = append(rows, row)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	odb := &overlapDB{Mem: db, both: make(chan struct{})}
	opt := plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true})}
	got, err := plan.Build(ctx, sliceRows(rows), odb, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plan.Build(ctx, sliceRows(rows), mem, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(summary(got), summary(want)) {
		t.Errorf("plan on SQLite:\n%v\nin memory:\n%v", summary(got), summary(want))
	}
	if d := got.Count(plan.OpDelete); d != (n+3)/7 {
		t.Errorf("%d deletes, want %d", d, (n+3)/7)
	}
	select {
	case <-odb.both:
	default:
		t.Error("the absent stretches were read one after the other")
	}
}
