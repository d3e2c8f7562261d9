package plan_test

import (
	"context"
	"fmt"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
)

// Guarantee: WaveLines(i) accepts the lines of wave i's upserts and no
// other (the new read of a lean wave maps those rows only); a plan that
// is not lean has none to give (nil): its actions hold their customers.
func TestPlan_WaveLinesAreTheWaves(t *testing.T) {
	var rows []mapping.Row
	for i := range 150 {
		line, ref := 2+2*i, fmt.Sprintf("W%03d", i) // every other line: a gap between rows
		if i%3 == 1 {
			rows = append(rows, plantest.Cust(line, ref, "parentCustomer="+fmt.Sprintf("W%03d", i-1)))
		} else {
			rows = append(rows, plantest.Cust(line, ref))
		}
	}
	ctx := context.Background()
	p, err := plan.Build(ctx, plantest.Rows(rows...), plantest.MemCheckpoint{}, plan.Options{ImportOnly: true, Lean: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.UpsertWaves() != 2 {
		t.Fatalf("%d waves, want 2 (parents, then sub-customers)", p.UpsertWaves())
	}
	for i := range p.UpsertWaves() {
		want := map[int]bool{}
		for act := range p.UpsertWave(i) {
			want[act.Line] = true
		}
		keep := p.WaveLines(i)
		for line := -70; line < 2*len(rows)+140; line++ {
			if keep(line) != want[line] {
				t.Errorf("wave %d: line %d accepted %v, want %v", i, line, keep(line), want[line])
			}
		}
	}
	full, err := plan.Build(ctx, plantest.Rows(rows...), plantest.MemCheckpoint{}, plan.Options{ImportOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if full.WaveLines(0) != nil {
		t.Error("a plan that is not lean gives wave lines")
	}
}
