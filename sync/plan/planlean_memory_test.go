package plan_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
)

// TestBuildPlan_LeanUpdatesNotHeld: a lean plan (an import) keeps no
// updated customer while the export is read, even after a mapping change
// makes every row an update: their values are compared with those last
// pushed in batches, and let go. 5,000 updates of 8 KB each were all
// held until the export was read (40 MB here, a whole export at 1M rows).
func TestBuildPlan_LeanUpdatesNotHeld(t *testing.T) {
	const n = 10_000
	big := strings.Repeat("s", 8<<10)
	row := func(i int) mapping.Row {
		f := map[string]string{"name": fmt.Sprint("Name ", i)}
		if i%2 == 0 { // differs from what was pushed
			f["street"] = big + fmt.Sprint(i)
		}
		return mapping.Row{Line: 2 + i, Customer: mapping.NewCustomer(fmt.Sprintf("K%05d", i), 2+i, f, plantest.FakeHash(f))}
	}
	cp := plantest.MemCheckpoint{}
	for i := range n {
		ref := fmt.Sprintf("K%05d", i)
		cp[ref] = &state.Record{Reference: ref, Hash: plantest.FakeHash(map[string]string{"old": ref}),
			Values: map[string]string{"name": fmt.Sprint("Name ", i)}, CRMID: int64(i + 1)}
	}
	var held uint64
	rows := func(fn func(mapping.Row) error) error {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range n {
			if err := fn(row(i)); err != nil {
				return err
			}
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
		return nil
	}
	p, err := plan.Build(context.Background(), rows, cp, plan.Options{
		ImportOnly: true, Lean: true, MappingChanged: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heap held at the end of the read: %d MiB", held>>20)
	if held > 20<<20 {
		t.Errorf("%d MiB held at the end of the read, want under 20: the updated customers are kept", held>>20)
	}
	if u := p.Count(plan.OpUpdate); u != n/2 || p.Unchanged != n/2 || len(p.Rehashed) != n/2 || p.MappingUpdates != n/2 {
		t.Errorf("updates %d, unchanged %d, rehashed %d, mapping updates %d; want %d each",
			u, p.Unchanged, len(p.Rehashed), p.MappingUpdates, n/2)
	}
	for a := range p.All() {
		if a.Customer != nil || a.Reason != plan.ReasonMappingChanged {
			t.Fatalf("action %s: customer kept %v, reason %q", a.Reference, a.Customer != nil, a.Reason)
		}
	}
}
