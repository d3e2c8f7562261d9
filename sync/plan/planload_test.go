package plan_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
)

// orderedCheckpoint is a plantest.MemCheckpoint that promises its order, as
// sqlite.DB does (HashesBetween): the plan then reads it while it reads the
// export. Before it streams entry pauseAt, it waits for resume, if set.
type orderedCheckpoint struct {
	plantest.MemCheckpoint
	pauseAt int
	resume  chan struct{}
	// step, when set, is waited for before every 1,024th entry after the
	// first: the plan must then take rows while the load goes on.
	step chan struct{}
	// count, when set, replaces the number of entries Count answers (a
	// checkpoint that grew or shrank after it was counted).
	count *int
}

func (c orderedCheckpoint) Count(context.Context) (int, error) {
	if c.count != nil {
		return *c.count, nil
	}
	return len(c.MemCheckpoint), nil
}

func (c orderedCheckpoint) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	for i, ref := range slices.Sorted(maps.Keys(c.MemCheckpoint)) {
		if i == c.pauseAt && c.resume != nil {
			select {
			case <-c.resume:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if c.step != nil && i > 0 && i%1024 == 0 {
			select {
			case <-c.step:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := fn(ref, c.MemCheckpoint[ref].Hash); err != nil {
			return err
		}
	}
	return nil
}

func (c orderedCheckpoint) HashesBetween(ctx context.Context, from, to string, fn func(ref, hash string) error) error {
	for _, ref := range slices.Sorted(maps.Keys(c.MemCheckpoint)) {
		if ref >= from && (to == "" || ref < to) {
			if err := fn(ref, c.MemCheckpoint[ref].Hash); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestBuildPlan_WhileCheckpointStreams plans 2,600 managed references
// (two of the loader's steps of 1,024 and a part) against exports in
// order, shuffled and reversed, with changes, new references, removals,
// duplicates, invalid rows and flagged deletes: reading the checkpoint
// while the export is read must give the very plan of reading it first.
func TestBuildPlan_WhileCheckpointStreams(t *testing.T) {
	const n = 2600
	var day1, day2 []mapping.Row
	for i := range n {
		ref := fmt.Sprintf("C%05d", i*2)
		day1 = append(day1, plantest.Cust(i+2, ref))
		switch {
		case i%97 == 0: // removed
		case i%89 == 0:
			day2 = append(day2, plantest.Cust(0, ref, "city=Lyon"))
		case i%83 == 0:
			day2 = append(day2, plantest.Flagged(0, ref))
		case i%79 == 0:
			day2 = append(day2, plantest.Bad(0, ref))
		case i%73 == 0:
			day2 = append(day2, plantest.Cust(0, ref), plantest.Cust(0, ref, "city=Nice")) // differing duplicates
		default:
			day2 = append(day2, plantest.Cust(0, ref))
		}
		if i%61 == 0 {
			day2 = append(day2, plantest.Cust(0, fmt.Sprintf("C%05d", i*2+1))) // new, between two managed
		}
	}
	day2 = append(day2, plantest.Cust(0, "A-first"), plantest.Cust(0, "Z-last"))
	cp := plantest.Checkpoint(day1...)
	opt := plan.Options{File: "x.csv", Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true})}
	orders := map[string]func([]mapping.Row) []mapping.Row{
		"sorted":   func(r []mapping.Row) []mapping.Row { return r },
		"reversed": func(r []mapping.Row) []mapping.Row { slices.Reverse(r); return r },
		"shuffled": func(r []mapping.Row) []mapping.Row {
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
			return r
		},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			rows := order(slices.Clone(day2))
			for i := range rows {
				relabel(&rows[i], i+2)
			}
			want, err := plan.Build(context.Background(), plantest.Rows(rows...), cp, opt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := plan.Build(context.Background(), plantest.Rows(rows...), orderedCheckpoint{MemCheckpoint: cp}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if pre := preloaded(t, rows, orderedCheckpoint{MemCheckpoint: cp}, opt); plantest.Layout(pre) != plantest.Layout(want) ||
				pre.Unchanged != want.Unchanged || pre.Managed != want.Managed || len(pre.RowErrors) != len(want.RowErrors) {
				t.Errorf("preloaded: %d actions, %d unchanged, %d managed; read first: %d, %d, %d",
					len(pre.Actions()), pre.Unchanged, pre.Managed, len(want.Actions()), want.Unchanged, want.Managed)
			}
			if name == "sorted" {
				// And with the load held back every 1,024 entries until
				// the plan has taken the rows before them: every kind of
				// row is then planned while the checkpoint streams.
				got, err = planInterleaved(rows, cp, opt)
				if err != nil {
					t.Fatal(err)
				}
			}
			if plantest.Layout(got) != plantest.Layout(want) || fmt.Sprint(errLines(got)) != fmt.Sprint(errLines(want)) ||
				got.Unchanged != want.Unchanged || got.Managed != want.Managed || len(got.Merged) != len(want.Merged) {
				t.Errorf("streamed checkpoint: %d actions, %d unchanged, %d errors, %d managed; read first: %d, %d, %d, %d",
					len(got.Actions()), got.Unchanged, len(got.RowErrors), got.Managed,
					len(want.Actions()), want.Unchanged, len(want.RowErrors), want.Managed)
			}
			if got.Count(plan.OpDelete) == 0 || got.Count(plan.OpCreate) == 0 || got.Count(plan.OpUpdate) == 0 || len(got.RowErrors) == 0 {
				t.Errorf("the case lacks an action kind: %d deletes, %d creates, %d updates, %d errors",
					got.Count(plan.OpDelete), got.Count(plan.OpCreate), got.Count(plan.OpUpdate), len(got.RowErrors))
			}
		})
	}
}

// preloaded builds a plan of rows against cp with the checkpoint
// preloaded (plan.Load, as `plan` starts it before its refresh); a second
// Build given the same preload loads by itself.
func preloaded(t *testing.T, rows []mapping.Row, cp plan.Checkpoint, opt plan.Options) *plan.Plan {
	t.Helper()
	opt.Preload = plan.Load(context.Background(), cp)
	defer opt.Preload.Stop()
	p, err := plan.Build(context.Background(), plantest.Rows(rows...), cp, opt)
	if err != nil {
		t.Fatal(err)
	}
	again, err := plan.Build(context.Background(), plantest.Rows(rows...), cp, opt)
	if err != nil || plantest.Layout(again) != plantest.Layout(p) || again.Managed != p.Managed {
		t.Errorf("the preload given twice: %v, %d managed; want the plan again (%d)", err, again.Managed, p.Managed)
	}
	return p
}

// TestBuildPlan_PreloadNotTaken: a preload no Build takes (the refresh
// failed) ends with Stop, as often as called; one of a checkpoint that
// cannot stream in order leaves the load to Build.
func TestBuildPlan_PreloadNotTaken(t *testing.T) {
	var rows []mapping.Row
	for i := range 3000 {
		rows = append(rows, plantest.Cust(i+2, fmt.Sprintf("C%05d", i)))
	}
	cp := plantest.Checkpoint(rows...)
	held := orderedCheckpoint{MemCheckpoint: cp, pauseAt: 10, resume: make(chan struct{})}
	p := plan.Load(context.Background(), held) // waits at entry 10 for ever
	p.Stop()
	p.Stop()
	got, err := plan.Build(context.Background(), plantest.Rows(rows...), cp, plan.Options{File: "x.csv", Preload: plan.Load(context.Background(), cp)})
	if err != nil || got.Unchanged != 3000 || got.Managed != 3000 {
		t.Errorf("unordered checkpoint, preloaded: %v, %d unchanged, %d managed; want 3000, 3000", err, got.Unchanged, got.Managed)
	}
}

// relabel gives a row the line it has in its export.
func relabel(r *mapping.Row, line int) {
	r.Line = line
	if r.Customer != nil {
		c := *r.Customer
		c.Line = line
		r.Customer = &c
	}
	if r.Err != nil {
		e := *r.Err
		e.Line = line
		r.Err = &e
	}
}

// TestBuildPlan_PlansBeforeCheckpointEnds shows the overlap: the
// checkpoint stops streaming half-way until the plan has taken the first
// rows of a sorted export, which it can only do while the checkpoint is
// still being read.
func TestBuildPlan_PlansBeforeCheckpointEnds(t *testing.T) {
	const n = 4096
	var rows []mapping.Row
	for i := range n {
		rows = append(rows, plantest.Cust(i+2, fmt.Sprintf("C%05d", i)))
	}
	cp := orderedCheckpoint{MemCheckpoint: plantest.Checkpoint(rows...), pauseAt: n / 2, resume: make(chan struct{})}
	taken := 0
	export := func(fn func(mapping.Row) error) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
			if taken++; taken == n/4 {
				close(cp.resume)
			}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := plan.Build(ctx, export, cp, plan.Options{File: "x.csv"})
	if err != nil {
		t.Fatalf("the plan waited for the whole checkpoint before its first row: %v", err)
	}
	if p.Unchanged != n || len(p.Actions()) != 0 {
		t.Errorf("%d unchanged, %d actions; want %d, 0", p.Unchanged, len(p.Actions()), n)
	}
}

// planInterleaved plans a sorted export against cp, the checkpoint's load
// held back before each 1,024th entry until the plan has taken every row
// whose reference comes before the entry 1,024 back (those it can plan
// with what is loaded), so that planning and loading alternate.
func planInterleaved(rows []mapping.Row, cp plantest.MemCheckpoint, opt plan.Options) (*plan.Plan, error) {
	refs := slices.Sorted(maps.Keys(cp))
	gate := orderedCheckpoint{MemCheckpoint: cp, step: make(chan struct{})}
	next := 1024 // the entry the load waits at
	export := func(fn func(mapping.Row) error) error {
		for _, r := range rows {
			ref := rowRef(r)
			for next < len(refs) && ref >= refs[next-1024] {
				gate.step <- struct{}{}
				next += 1024
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		for ; next < len(refs); next += 1024 {
			gate.step <- struct{}{}
		}
		return nil
	}
	return plan.Build(context.Background(), export, gate, opt)
}

// rowRef is a row's reference, valid or not.
func rowRef(r mapping.Row) string {
	if r.Customer != nil {
		return r.Customer.Reference
	}
	return r.Err.Reference
}

// TestBuildPlan_CheckpointStreamErrors: a checkpoint that streams out of
// order fails the plan (a row may have been taken as new); one holding
// more or fewer entries than it counted plans as if read first; a plan
// cancelled while a row waits for the load ends.
func TestBuildPlan_CheckpointStreamErrors(t *testing.T) {
	var rows []mapping.Row
	for i := range 3000 {
		rows = append(rows, plantest.Cust(i+2, fmt.Sprintf("C%05d", i)))
	}
	rows = append(rows, plantest.Cust(3002, "D-new"))
	cp := plantest.Checkpoint(rows[:3000]...)
	want, err := plan.Build(context.Background(), plantest.Rows(rows...), cp, plan.Options{File: "x.csv"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, 1024, 2999, 3000, 5000} {
		got, err := plan.Build(context.Background(), plantest.Rows(rows...), orderedCheckpoint{MemCheckpoint: cp, count: &n}, plan.Options{File: "x.csv"})
		if err != nil || plantest.Layout(got) != plantest.Layout(want) || got.Unchanged != want.Unchanged || got.Managed != 3000 {
			t.Errorf("counted %d of 3000: err %v, %d unchanged, %d managed; want %d, 3000", n, err, got.Unchanged, got.Managed, want.Unchanged)
		}
	}

	_, err = plan.Build(context.Background(), plantest.Rows(rows...), swapped{orderedCheckpoint{MemCheckpoint: cp}}, plan.Options{File: "x.csv"})
	if err == nil || !strings.Contains(err.Error(), "not in reference order") {
		t.Errorf("a checkpoint out of order: %v, want the plan refused", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	held := orderedCheckpoint{MemCheckpoint: cp, pauseAt: 10, resume: make(chan struct{})}
	export := func(fn func(mapping.Row) error) error {
		cancel() // the first row then waits for a load that never comes
		return plantest.Rows(rows...)(fn)
	}
	if _, err := plan.Build(ctx, export, held, plan.Options{File: "x.csv"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while a row waits: %v, want context.Canceled", err)
	}
}

// swapped streams its checkpoint with two neighbours swapped, past the
// first published block.
type swapped struct{ orderedCheckpoint }

func (c swapped) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	refs := slices.Sorted(maps.Keys(c.MemCheckpoint))
	refs[2000], refs[2001] = refs[2001], refs[2000]
	for _, ref := range refs {
		if err := fn(ref, c.MemCheckpoint[ref].Hash); err != nil {
			return err
		}
	}
	return nil
}
