package plan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
)

// pushedCheckpoint is a checkpoint holding an export as if every valid
// row had been pushed; withSums false leaves the row sums out, as a
// checkpoint from before them.
func pushedCheckpoint(t *testing.T, m *mapping.Mapping, export string, withSums bool) *memstate.Mem {
	t.Helper()
	db := memstate.New()
	t.Cleanup(func() { db.Close() })
	w := db.NewWriter(1000, 0)
	_, err := m.Read(context.Background(), export, func(r mapping.Row) error {
		if r.Customer == nil || r.Customer.Delete {
			return nil
		}
		o := state.Outcome{Op: state.OpUpsert, Reference: r.Customer.Reference, Hash: r.Customer.Hash,
			Values: r.Customer.Fields(), CRMID: int64(r.Line)}
		if withSums {
			o.RowSum = r.Customer.RowSum
		}
		return w.Put(context.Background(), o)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return db
}

// planText is what a plan decides, as text to compare: every action
// (op, reference, line, reason, hash, changes), the counts and the row
// errors, warnings and merged lines.
func planText(p *plan.Plan) string {
	var b strings.Builder
	for _, a := range p.Actions() {
		hash := ""
		if a.Customer != nil {
			hash = a.Customer.Hash
		}
		fmt.Fprintf(&b, "%s %s line %d (%s) %s %v\n", a.Op, a.Reference, a.Line, a.Reason, hash, a.Changes)
	}
	fmt.Fprintf(&b, "rows %d unchanged %d invalid %d ignored %d managed %d\n", p.Rows, p.Unchanged, p.InvalidRows, p.Ignored, p.Managed)
	for _, e := range p.RowErrors {
		fmt.Fprintln(&b, "error", e)
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(&b, "warning", w)
	}
	for _, m := range p.Merged {
		fmt.Fprintln(&b, "merged", m.Reference, m.Lines)
	}
	return b.String()
}

// dayTwo writes days 1 and 2 of a generated export, day 2 with, added at
// its end, an identical copy of one unchanged line (merged) and a
// differing copy of another (both rejected), and both days with a line
// whose email is implausible (a warning at every plan).
func dayTwo(t *testing.T) (string, string) {
	t.Helper()
	day1, day2, err := genexport.WriteFiles(t.TempDir(), genexport.Options{Rows: 4500, Seed: 5, Changed: 0.07, Removed: 0.03, Added: 0.03}) // past lazyCheck (4,096): a read without sums gives up
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(day2)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	same, other, third := lines[101], lines[202], lines[303] // plain rows of day 1, most likely unchanged
	cells := strings.Split(other, ";")
	cells[1] += " (a second row)" // NAME1
	differing := strings.Join(cells, ";")
	cells = strings.Split(third, ";")
	cells[0], cells[17] = "WARN-1", "not-an-email" // a new customer, SMTP
	warned := strings.Join(cells, ";")
	lines = append(lines, same, differing, warned)
	// The warned row is in day 1 too: unchanged, its warning is shown
	// again.
	data, err = os.ReadFile(day1)
	if err != nil {
		t.Fatal(err)
	}
	return writeLines(t, day1, append(strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"), warned)), writeLines(t, day2, lines)
}

func writeLines(t *testing.T, path string, lines []string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlanRows_SameAsMapped: a plan from lazy rows (PlanRows) decides
// exactly what a plan from mapped rows does, against a checkpoint with
// row sums and one without, with retries and drift (rows that must be
// seen whole), duplicates and warnings; most unchanged rows are known by
// their sum alone. Without sums, the plan notes the sums to save; once
// saved, the next plan knows the rows by them.
func TestPlanRows_SameAsMapped(t *testing.T) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	day1, day2 := dayTwo(t)
	ctx := context.Background()
	opt := plan.Options{Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true}),
		DriftPolicy: policy.DriftERPWins,
		Retry:       map[string]bool{"K00000104": true, "K00000105": true},
		Drift:       []plan.Drift{{Reference: "K00000106"}, {Reference: "K00000107", Deleted: true}}}
	for _, withSums := range []bool{true, false} {
		db := pushedCheckpoint(t, m, day1, withSums)
		mapped, err := plan.Build(ctx, sync.ExportRows(ctx, m, day2), db, opt)
		if err != nil {
			t.Fatal(err)
		}
		lazy, err := plan.Build(ctx, sync.PlanRows(ctx, m, day2), db, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := planText(lazy), planText(mapped); got != want {
			t.Fatalf("sums %v: the lazy plan differs:\n%s", withSums, firstDiff(got, want))
		}
		if len(mapped.Merged) != 1 || len(mapped.RowErrors) != 1 || len(mapped.Warnings) == 0 || mapped.Count(plan.OpUpdate) < 200 {
			t.Fatalf("the export does not test what it should: %d merged, %d row errors, %d warnings, %d updates",
				len(mapped.Merged), len(mapped.RowErrors), len(mapped.Warnings), mapped.Count(plan.OpUpdate))
		}
		if !withSums {
			if lazy.SameBySum != 0 || len(lazy.RowSums) < lazy.Unchanged*3/4 {
				t.Fatalf("no sums: %d rows known by sum, %d sums to save of %d unchanged", lazy.SameBySum, len(lazy.RowSums), lazy.Unchanged)
			}
			if err := db.SaveRowSums(ctx, lazy.RowSums); err != nil {
				t.Fatal(err)
			}
			again, err := plan.Build(ctx, sync.PlanRows(ctx, m, day2), db, opt)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := planText(again), planText(mapped); got != want {
				t.Fatalf("after the sums were saved, the plan differs:\n%s", firstDiff(got, want))
			}
			lazy = again
		}
		if lazy.SameBySum < lazy.Unchanged*3/4 || len(lazy.RowSums) != 0 {
			t.Errorf("sums %v: %d of %d unchanged rows known by their sum, %d sums to save; want most, none",
				withSums, lazy.SameBySum, lazy.Unchanged, len(lazy.RowSums))
		}
	}
}

// firstDiff returns the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n lazy:   %s\n mapped: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, mapped %d", len(g), len(w))
}

// TestPlanRows_CycleThroughUnchangedRow: a row known by its sum still
// gives its parent to the plan, which sees a cycle running through it: A
// made the child of B, whose parent is A and whose row is unchanged.
func TestPlanRows_CycleThroughUnchangedRow(t *testing.T) {
	cfg := mapping.DefaultConfig()
	cfg.Columns = mapping.ColumnMap{"reference": "ref", "name": "name", "parentCustomer": "parent"}
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	day1 := writeLines(t, filepath.Join(dir, "day1.csv"), []string{"ref,name,parent", "A,Alpha,", "B,Beta,A", "C,Gamma,"})
	day2 := writeLines(t, filepath.Join(dir, "day2.csv"), []string{"ref,name,parent", "A,Alpha,B", "B,Beta,A", "C,Gamma,"})
	db := pushedCheckpoint(t, m, day1, true)
	ctx := context.Background()
	for name, rows := range map[string]plan.Rows{"mapped": sync.ExportRows(ctx, m, day2), "lazy": sync.PlanRows(ctx, m, day2)} {
		p, err := plan.Build(ctx, rows, db, plan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.RowErrors) != 1 || !strings.Contains(p.RowErrors[0].Error(), "parent cycle: A → … → A") || p.Len() != 0 {
			t.Errorf("%s: %d actions, row errors %v; want A's parent cycle through B", name, p.Len(), p.RowErrors)
		}
		if name == "lazy" && p.SameBySum != 2 {
			t.Errorf("lazy: %d rows known by their sum, want B and C", p.SameBySum)
		}
	}
}
