package apply_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state/memstate"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/plantest"
)

// leanRun plans rows leanly against a new checkpoint, then applies the
// plan to a new crmsim, reading the rows again from reread.
func leanRun(t *testing.T, rows []mapping.Row, reread []mapping.Row) (*plan.Plan, *apply.Summary, *memstate.Mem, *crmsim.Server) {
	t.Helper()
	ctx := context.Background()
	p, db, sim, client := leanPlan(t, rows)
	for _, a := range p.Actions() {
		if a.Customer != nil {
			t.Fatalf("a lean plan holds the customer of %s", a.Reference)
		}
	}
	w := db.NewWriter(100, 10*time.Millisecond)
	sum, err := apply.Run(ctx, p, client, w, apply.Options{RunID: 1, Concurrency: 4, Rows: plantest.Rows(reread...),
		MaxFailures: plan.Limit{Percent: 100, IsPercent: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Actions() {
		if a.Customer != nil {
			t.Errorf("%s still holds its customer after the apply", a.Reference)
		}
	}
	return p, sum, db, sim
}

// leanPlan plans rows leanly against a new checkpoint and returns the
// plan, the checkpoint, and a new crmsim with a client on it.
func leanPlan(t *testing.T, rows []mapping.Row) (*plan.Plan, *memstate.Mem, *crmsim.Server, *crm.Client) {
	t.Helper()
	db := memstate.New()
	t.Cleanup(func() { db.Close() })
	p, err := plan.Build(context.Background(), plantest.Rows(rows...), db, plan.Options{ImportOnly: true, Lean: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := simtest.Start(t, crmsim.Options{})
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	return p, db, ts.Server, client
}

// waveLayout writes a plan as layout does, reading its upsert waves
// through UpsertWave: a lean plan's are rows, not Upserts.
func waveLayout(p *plan.Plan) string {
	var ws []string
	for i := range p.UpsertWaves() {
		var as []string
		for a := range p.UpsertWave(i) {
			as = append(as, string(a.Op)+":"+a.Reference)
		}
		ws = append(ws, strings.Join(as, " "))
	}
	// layout of the deletes alone is " || " and theirs.
	return strings.Join(ws, " | ") + plantest.Layout(&plan.Plan{Deletes: p.Deletes})
}

func TestApply_Lean(t *testing.T) {
	rows := []mapping.Row{
		plantest.Cust(2, "C1", "parentCustomer=P1", "email=c1@example.com"),
		plantest.Cust(3, "A", "email=a@example.com"),
		plantest.Cust(4, "P1", "email=p1@example.com"),
		plantest.Cust(5, "B", "email=b@example.com"),
	}

	t.Run("every row read again and sent, parents first", func(t *testing.T) {
		p, sum, db, sim := leanRun(t, rows, rows)
		if got := waveLayout(p); got != "create:A create:P1 create:B | create:C1 || " {
			t.Errorf("waves = %s", got)
		}
		if sum.OK[plan.OpCreate] != 4 || sum.Failed[plan.OpCreate] != 0 {
			t.Errorf("summary = %+v", sum)
		}
		c1, ok := sim.Store.ByReference("C1")
		if !ok || c1.ParentCustomer == nil || c1.ParentCustomer.Reference != "P1" {
			t.Errorf("C1 in the CRM: %+v", c1.ParentCustomer)
		}
		for _, ref := range []string{"A", "B", "C1", "P1"} {
			rec, err := db.Get(context.Background(), ref)
			if err != nil || rec == nil || rec.Values["email"] == "" {
				t.Errorf("checkpoint of %s = %+v, %v", ref, rec, err)
			}
		}
	})

	t.Run("rows changed or gone since the plan are not sent", func(t *testing.T) {
		changed := []mapping.Row{
			plantest.Cust(2, "C1", "parentCustomer=P1", "email=c1@example.com"),
			plantest.Cust(4, "P1", "email=p1@example.com"),
			plantest.Cust(5, "B", "email=other@example.com"), // A is gone, B changed
		}
		_, sum, db, sim := leanRun(t, rows, changed)
		if sum.OK[plan.OpCreate] != 2 || sum.Failed[plan.OpCreate] != 2 {
			t.Errorf("summary = %+v, want 2 created and 2 failed", sum)
		}
		for _, ref := range []string{"A", "B"} {
			if _, ok := sim.Store.ByReference(ref); ok {
				t.Errorf("%s was sent", ref)
			}
		}
		failures, err := db.Failures(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, f := range failures {
			refs = append(refs, f.Reference)
			if !strings.Contains(f.Message, "changed in the export") {
				t.Errorf("failure of %s: %q", f.Reference, f.Message)
			}
		}
		if strings.Join(refs, ",") != "A,B" {
			t.Errorf("failures = %v, want A and B", refs)
		}
	})
}

// A row read again at a planned line but naming another reference is not
// the planned row: the planned one fails, the other is not sent.
func TestApply_LeanLineTakenByAnother(t *testing.T) {
	rows := []mapping.Row{plantest.Cust(2, "A"), plantest.Cust(3, "B"), plantest.Cust(4, "C")}
	reread := []mapping.Row{plantest.Cust(2, "A"), plantest.Cust(3, "Z"), plantest.Cust(4, "C")}
	_, sum, db, sim := leanRun(t, rows, reread)
	if sum.OK[plan.OpCreate] != 2 || sum.Failed[plan.OpCreate] != 1 {
		t.Errorf("summary = %+v, want 2 created and 1 failed", sum)
	}
	for ref, want := range map[string]bool{"A": true, "B": false, "C": true, "Z": false} {
		if _, ok := sim.Store.ByReference(ref); ok != want {
			t.Errorf("%s in the CRM: %v, want %v", ref, ok, want)
		}
	}
	failures, err := db.Failures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) != 1 || failures[0].Reference != "B" || failures[0].Line != 3 {
		t.Errorf("failures = %+v, want B at line 3", failures)
	}
}

// A read of the export that fails midway stops the wave: what was sent is
// counted, the rest counts as not sent.
func TestApply_LeanReadFails(t *testing.T) {
	rows := []mapping.Row{plantest.Cust(2, "A"), plantest.Cust(3, "B"), plantest.Cust(4, "C")}
	ctx := context.Background()
	p, _, _, client := leanPlan(t, rows)
	broken := func(fn func(mapping.Row) error) error {
		if err := fn(rows[0]); err != nil {
			return err
		}
		return errors.New("disk gone")
	}
	sum, err := apply.Run(ctx, p, client, apply.Discard{}, apply.Options{Rows: broken,
		MaxFailures: plan.Limit{Percent: 100, IsPercent: true}})
	if err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("Apply = %v, want the read's error", err)
	}
	if sum.OK[plan.OpCreate] != 1 || sum.Skipped != 2 {
		t.Errorf("summary = %+v, want 1 created and 2 not sent", sum)
	}
}

// A lean plan reads as the plan of the same rows that is not lean: the
// same actions, in the same waves and order, counted alike.
func TestPlan_LeanReadsAsNormal(t *testing.T) {
	rows := []mapping.Row{
		plantest.Cust(2, "G", "parentCustomer=C1"),
		plantest.Cust(3, "A"),
		plantest.Cust(4, "C1", "parentCustomer=P1"),
		plantest.Cust(5, "P1"),
		plantest.Cust(6, "B"),
		plantest.Cust(7, "C2", "parentCustomer=P1"),
		plantest.Cust(8, "A"), // merged into line 3
	}
	plans := map[bool]*plan.Plan{}
	for _, lean := range []bool{false, true} {
		db := memstate.New()
		defer db.Close()
		p, err := plan.Build(context.Background(), plantest.Rows(rows...), db, plan.Options{ImportOnly: true, Lean: lean})
		if err != nil {
			t.Fatal(err)
		}
		plans[lean] = p
	}
	normal, lean := plans[false], plans[true]
	if lean.Upserts != nil {
		t.Errorf("a lean plan holds Upserts: %s", plantest.Layout(lean))
	}
	if got, want := waveLayout(lean), plantest.Layout(normal); got != want || want != "create:A create:P1 create:B | create:C1 create:C2 | create:G || " {
		t.Errorf("lean waves = %s, want %s", got, want)
	}
	if lean.Len() != normal.Len() || lean.Len() != 6 || lean.Count(plan.OpCreate) != 6 || lean.UpsertWaves() != 3 {
		t.Errorf("lean: %d actions, %d creates, %d waves; want 6, 6, 3", lean.Len(), lean.Count(plan.OpCreate), lean.UpsertWaves())
	}
	describe := func(a *plan.Action) string {
		return fmt.Sprintf("%s %s %d %s %q", a.Op, a.Reference, a.Line, a.Reason, a.Parent)
	}
	var got, want []string
	for a := range lean.All() {
		got = append(got, describe(a))
	}
	for _, a := range normal.Actions() {
		want = append(want, describe(a))
	}
	if !slices.Equal(got, want) {
		t.Errorf("lean actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for a := range lean.All() {
		if a.Reference == "P1" {
			break // an iteration stopped early is fine
		}
	}
}

// Every action of a lean plan is told to Done once, whether it was sent,
// failed, or not sent after the failure budget ran out; the counts add up
// to the plan's.
func TestApply_LeanDoneOnce(t *testing.T) {
	var rows, reread []mapping.Row
	for i := range 40 {
		ref := fmt.Sprintf("R%02d", i)
		rows = append(rows, plantest.Cust(i+2, ref))
		if i%4 == 1 { // changed since the plan: failed, and the budget is 3
			reread = append(reread, plantest.Cust(i+2, ref, "email=new@example.com"))
		} else {
			reread = append(reread, plantest.Cust(i+2, ref))
		}
	}
	ctx := context.Background()
	p, _, _, client := leanPlan(t, rows)
	var mu gosync.Mutex
	told := map[string]int{}
	sum, err := apply.Run(ctx, p, client, apply.Discard{}, apply.Options{Concurrency: 4, Rows: plantest.Rows(reread...),
		MaxFailures: plan.Limit{Count: 3},
		Done: func(res apply.Result) {
			mu.Lock()
			defer mu.Unlock()
			told[res.Action.Reference]++
		}})
	var guard *guard.Error
	if !errors.As(err, &guard) || guard.Guard != "max_failures" {
		t.Fatalf("Apply = %v, want the max_failures guard", err)
	}
	for ref, n := range told {
		if n != 1 {
			t.Errorf("%s told %d times", ref, n)
		}
	}
	sent, failed := sum.OK[plan.OpCreate], sum.Failed[plan.OpCreate]
	if len(told) != p.Len() || sent+failed+sum.Skipped != p.Len() || failed != 4 || sum.Skipped == 0 {
		t.Errorf("told %d of %d; %d sent, %d failed, %d not sent; want 4 failed and some not sent",
			len(told), p.Len(), sent, failed, sum.Skipped)
	}
}
