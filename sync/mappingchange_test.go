package sync_test

import (
	"context"
	"fmt"
	"testing"

	"erpsync/mapping"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
)

// TestRun_MappingChangeSendsOnlyChangedValues (issue 21 §3): a changed
// mapping (null_values added) sends only the customers whose mapped
// values differ from those last pushed, not every customer; the plan
// says how many changed with the mapping. The checkpoint takes the new
// mapping's hashes and row sums of the others: the run after knows every
// row by its sum and sends nothing. An import (a lean plan) does the same.
func TestRun_MappingChangeSendsOnlyChangedValues(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and folder
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		const n = 40
		export := []string{"reference;name;parent;email"}
		for i := range n {
			email := fmt.Sprintf("c%02d@x.example", i)
			if i == 7 {
				email = "n/a" // pushed as is; a null value under the new mapping
			}
			export = append(export, fmt.Sprintf("C%02d;Customer %02d;;%s", i, i, email))
		}
		changed := append([]string(nil), export...)
		changed[1+12] = "C12;Customer twelve;;c12@x.example" // changed in the export too
		withNulls := csvConfig()
		withNulls.NullValues = mapping.TextList{"n/a"}
		m2, err := mapping.New(withNulls, nil)
		if err != nil {
			t.Fatal(err)
		}

		for _, mode := range []sync.Mode{sync.ModeRun, sync.ModeImport} {
			t.Run(string(mode), func(t *testing.T) {
				c := newCSVJobWith(t, impl, csvConfig(), crmsim.Options{})
				if _, err := c.run(t, export...); err != nil {
					t.Fatalf("day 1: %v", err)
				}
				c.job.Mapping, c.job.Mode = m2, mode
				before := c.sim.Stats()[crm.OpUpsert]
				out, err := c.run(t, changed...)
				if err != nil {
					t.Fatalf("mapping changed: %v", err)
				}
				sent := c.sim.Stats()[crm.OpUpsert] - before
				p := out.Plan
				if sent != 2 || p.Count(plan.OpUpdate) != 2 || p.Unchanged != n-2 {
					t.Errorf("%d upserts sent, plan %d updates, %d unchanged; want 2 (C07, C12), 2, %d", sent, p.Count(plan.OpUpdate), p.Unchanged, n-2)
				}
				if !p.MappingChanged || p.MappingUpdates != 2 {
					t.Errorf("plan: mapping changed %v, %d customers changed with it; want true, 2", p.MappingChanged, p.MappingUpdates)
				}
				c.job.Mode = sync.ModeRun
				before = c.sim.Stats()[crm.OpUpsert]
				out, err = c.run(t, changed...)
				if err != nil {
					t.Fatalf("the run after: %v", err)
				}
				if sent := c.sim.Stats()[crm.OpUpsert] - before; sent != 0 || out.Plan.Unchanged != n || out.Plan.SameBySum != n || out.Plan.MappingChanged {
					t.Errorf("the run after: %d sent, %d unchanged, %d by their sum, mapping changed %v; want 0, %d, %d, false",
						sent, out.Plan.Unchanged, out.Plan.SameBySum, out.Plan.MappingChanged, n, n)
				}
			})
		}
	})
}

// TestRun_MappingUnmapsField (issue 21 §3): a field no longer mapped
// changes no customer's values: nothing is sent, and the checkpoint keeps
// the values as now mapped (email gone), so that drift no longer looks at
// a field erpsync stopped managing.
func TestRun_MappingUnmapsField(t *testing.T) {
	cfg := csvConfig()
	cfg.Columns["email"] = "courriel" // not a CRM field's name: unmapped, it is not read
	c := newCSVJob(t, cfg)
	export := []string{"reference;name;parent;courriel", "A;Alpha;;a@x.example", "B;Beta;;b@x.example"}
	if _, err := c.run(t, export...); err != nil {
		t.Fatalf("day 1: %v", err)
	}
	cfg = csvConfig() // a new map: the first mapping keeps its own
	delete(cfg.Columns, "email")
	m2, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.job.Mapping = m2
	before := c.sim.Stats()[crm.OpUpsert]
	out, err := c.run(t, export...)
	if err != nil {
		t.Fatalf("email unmapped: %v", err)
	}
	if sent := c.sim.Stats()[crm.OpUpsert] - before; sent != 0 || out.Plan.Unchanged != 2 || out.Plan.MappingUpdates != 0 {
		t.Errorf("%d sent, %d unchanged, %d with the mapping; want 0, 2, 0", sent, out.Plan.Unchanged, out.Plan.MappingUpdates)
	}
	vals, err := c.job.State.Values(context.Background(), "A")
	if _, kept := vals["email"]; err != nil || kept || vals["name"] != "Alpha" {
		t.Errorf("A's values in the checkpoint: %v (%v), want no email, name Alpha", vals, err)
	}
}
