package sync_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// leanRun plans rows leanly against a new checkpoint, then applies the
// plan to a new crmsim, reading the rows again from reread.
func leanRun(t *testing.T, rows []mapping.Row, reread []mapping.Row) (*sync.Plan, *sync.Summary, *state.DB, *crmsim.Server) {
	t.Helper()
	ctx := context.Background()
	db := state.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	plan, err := sync.BuildPlan(ctx, rowsOf(rows...), db, sync.PlanOptions{ImportOnly: true, Lean: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.Actions() {
		if a.Customer != nil {
			t.Fatalf("a lean plan holds the customer of %s", a.Reference)
		}
	}
	sim := crmsim.NewDefault()
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	w := db.NewWriter(100, 10*time.Millisecond)
	sum, err := sync.Apply(ctx, plan, client, w, sync.ApplyOptions{RunID: 1, Concurrency: 4, Rows: rowsOf(reread...),
		MaxFailures: sync.Limit{Percent: 100, IsPercent: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.Actions() {
		if a.Customer != nil {
			t.Errorf("%s still holds its customer after the apply", a.Reference)
		}
	}
	return plan, sum, db, sim
}

func TestApply_Lean(t *testing.T) {
	rows := []mapping.Row{
		cust(2, "C1", "parentCustomer=P1", "email=c1@example.com"),
		cust(3, "A", "email=a@example.com"),
		cust(4, "P1", "email=p1@example.com"),
		cust(5, "B", "email=b@example.com"),
	}

	t.Run("every row read again and sent, parents first", func(t *testing.T) {
		plan, sum, db, sim := leanRun(t, rows, rows)
		if got := layout(plan); got != "create:A create:P1 create:B | create:C1 || " {
			t.Errorf("waves = %s", got)
		}
		if sum.OK[sync.OpCreate] != 4 || sum.Failed[sync.OpCreate] != 0 {
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
			cust(2, "C1", "parentCustomer=P1", "email=c1@example.com"),
			cust(4, "P1", "email=p1@example.com"),
			cust(5, "B", "email=other@example.com"), // A is gone, B changed
		}
		_, sum, db, sim := leanRun(t, rows, changed)
		if sum.OK[sync.OpCreate] != 2 || sum.Failed[sync.OpCreate] != 2 {
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
	rows := []mapping.Row{cust(2, "A"), cust(3, "B"), cust(4, "C")}
	reread := []mapping.Row{cust(2, "A"), cust(3, "Z"), cust(4, "C")}
	_, sum, db, sim := leanRun(t, rows, reread)
	if sum.OK[sync.OpCreate] != 2 || sum.Failed[sync.OpCreate] != 1 {
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
	rows := []mapping.Row{cust(2, "A"), cust(3, "B"), cust(4, "C")}
	ctx := context.Background()
	db := state.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan, err := sync.BuildPlan(ctx, rowsOf(rows...), db, sync.PlanOptions{ImportOnly: true, Lean: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(crmsim.NewDefault())
	defer ts.Close()
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	broken := func(fn func(mapping.Row) error) error {
		if err := fn(rows[0]); err != nil {
			return err
		}
		return errors.New("disk gone")
	}
	sum, err := sync.Apply(ctx, plan, client, sync.Discard{}, sync.ApplyOptions{Rows: broken,
		MaxFailures: sync.Limit{Percent: 100, IsPercent: true}})
	if err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("Apply = %v, want the read's error", err)
	}
	if sum.OK[sync.OpCreate] != 1 || sum.Skipped != 2 {
		t.Errorf("summary = %+v, want 1 created and 2 not sent", sum)
	}
}
