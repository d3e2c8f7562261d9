package sqlite_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"erpsync/state"
)

// Guarantee: the writer's own work a record stays within a few
// allocations beyond database/sql's: a record's values and the CRM's
// encoded in its scratch, its sha256 hash decoded into it, the clock
// boxed once a batch. 400 records of 25 fields, one batch, measured
// whole (the writer's start and statements included).
func TestWriter_AllocationsARecord(t *testing.T) {
	db := MustOpenDB(t)
	const n = 400
	names := make([]string, 25)
	for f := range names {
		names[f] = fmt.Sprintf("field%02d", f)
	}
	hash := strings.Repeat("0123456789abcdef", 4)
	asMaps, inOrder := make([]state.Outcome, n), make([]state.Outcome, n)
	for i := range asMaps {
		vals := map[string]string{}
		ordered := make([]string, len(names))
		for f, name := range names {
			vals[name] = fmt.Sprintf("value %d of %d", f, i)
			ordered[f] = vals[name]
		}
		crm := maps.Clone(vals)
		crm["field03"] = "false"
		asMaps[i] = upsert(fmt.Sprintf("R%05d", i), hash, vals)
		asMaps[i].CRMValues = crm
		inOrder[i] = state.Outcome{Op: state.OpUpsert, Reference: asMaps[i].Reference, Hash: hash,
			Pushed: state.Pushed{Names: names, Vals: ordered, Held: []state.Held{{At: 3, Value: "false"}}}}
	}
	// 13.8 before (2026-12-07): the hash decoded into a new slice and
	// boxed, the clock boxed a record. The race detector (CI's make test)
	// adds its own: 11.8-11.9 without it, 12.3-12.4 under it. Outcomes in
	// order (state.Pushed, an import's): 10.9 without it.
	round := 0
	for _, tc := range []struct {
		name  string
		outs  []state.Outcome
		limit float64
	}{
		{"as maps", asMaps, 12.5},
		{"in order", inOrder, 11.5},
	} {
		per := testing.AllocsPerRun(2, func() {
			round++ // new references: every record inserted, as the first run of each way
			for i := range tc.outs {
				tc.outs[i].Reference = fmt.Sprintf("R%d-%05d", round, i)
			}
			w := db.NewWriter(n, time.Hour)
			for _, o := range tc.outs {
				if err := w.Put(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}) / n
		limit := tc.limit
		if raceEnabled {
			limit += 0.75
		}
		t.Logf("%s: %.2f allocations a record", tc.name, per)
		if per > limit {
			t.Errorf("%s: %.2f allocations a record, want at most %.2f", tc.name, per, limit)
		}
	}
}
