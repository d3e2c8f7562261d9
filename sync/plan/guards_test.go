package plan_test

import (
	"strings"
	"testing"

	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
)

func limit(t *testing.T, s string) guard.Optional {
	t.Helper()
	var g guard.Optional
	if err := g.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGuards_Check: each guard against a plan of 20 managed customers;
// shares are not checked on a first run, counts are; held deletes are
// not counted.
func TestGuards_Check(t *testing.T) {
	upd := func(ref string, changes ...plan.Change) *plan.Action {
		return &plan.Action{Op: plan.OpUpdate, Reference: ref, Changes: changes}
	}
	cleared := plan.Change{Field: "email", Old: "a@x.example", New: ""}
	p := &plan.Plan{Managed: 20, MappingChanged: true, MappingUpdates: 3,
		Upserts: [][]*plan.Action{{upd("A", cleared), upd("B", cleared), upd("C", cleared, plan.Change{Field: "phone", Old: "1"}),
			{Op: plan.OpCreate, Reference: "N"}}},
		Deletes: [][]*plan.Action{{{Op: plan.OpDelete, Reference: "D"}, {Op: plan.OpDelete, Reference: "H", Reason: plan.ReasonAbsentHeld}}}}
	for _, tc := range []struct {
		name string
		g    plan.Guards
		want string // the guards tripped, comma-separated
	}{
		{"off", plan.Guards{MaxDelete: guard.On(plan.Limit{Count: 5})}, ""},
		{"under", plan.Guards{MaxDelete: guard.On(plan.Limit{Count: 1}), MaxUpdate: limit(t, "15%"), MaxCreate: limit(t, "1"),
			MaxBlank: limit(t, "3"), MaxMappingChange: limit(t, "3")}, ""},
		{"over", plan.Guards{MaxDelete: guard.On(plan.Limit{Count: 0}), MaxUpdate: limit(t, "10%"), MaxCreate: limit(t, "0"),
			MaxBlank: limit(t, "10%"), MaxMappingChange: limit(t, "2")}, "max_delete,max_create,max_update,max_blank,max_mapping_change"},
		{"empty is off", plan.Guards{MaxDelete: guard.On(plan.Limit{Count: 1}), MaxUpdate: limit(t, "")}, ""},
		{"max_delete unset is off", plan.Guards{}, ""},
		{"max_delete 0%", plan.Guards{MaxDelete: limit(t, "0%")}, "max_delete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range tc.g.Check(p) {
				got = append(got, e.Guard)
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("tripped %v, want %q", got, tc.want)
			}
		})
	}
	if f, n := p.MostCleared(); f != "email" || n != 3 {
		t.Errorf("MostCleared = %s %d, want email 3", f, n)
	}
	first := &plan.Plan{Upserts: [][]*plan.Action{{{Op: plan.OpCreate, Reference: "N"}}}}
	if got := (plan.Guards{MaxCreate: limit(t, "0%")}).Check(first); len(got) != 0 {
		t.Errorf("a share tripped on a first run: %v", got)
	}
	if got := (plan.Guards{MaxCreate: limit(t, "0")}).Check(first); len(got) != 1 {
		t.Errorf("a count did not trip on a first run: %v", got)
	}
}
