package reconcile_test

import (
	"context"
	"fmt"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/reconcile"
)

// Issue 25 §5: the memory limit that reconcile sets follows what it
// holds at each step, the records that differ included: once the listing
// is compared, the report's items and the records still to compare one
// by one (which the limit left out, while the CRM's entries let go are
// no longer counted).
func TestReconcile_LimitCountsItems(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	var export []mapping.Row
	for i := range 100 {
		ref := fmt.Sprintf("R%03d", i)
		export = append(export, plantest.Cust(2+i, ref, "email="+ref+"@example.com"))
		email := ref + "@example.com"
		if i < 60 {
			email = ref + "@edited.example.com" // differs: compared field by field
		}
		if _, err := r.Store.Put(ref, map[string]string{"name": ref, "email": email}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		if _, err := r.Store.Put(fmt.Sprintf("C%02d", i), map[string]string{"name": "Only in the CRM"}); err != nil {
			t.Fatal(err)
		}
	}
	var told []int64
	res, err := reconcile.Run(ctx, plantest.Rows(export...), r.Client, r.CP, reconcile.Options{Limit: func(b int64) { told = append(told, b) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Different < 60 || res.Summary.OnlyInCRM != 50 {
		t.Fatalf("summary %+v, want 60 different or more and 50 only in the CRM", res.Summary)
	}
	if len(told) != 3 {
		t.Fatalf("Limit told %d times (%v), want 3: the export read, the CRM's count known, the listing compared", len(told), told)
	}
	export0, listed, compared := told[0], told[1], told[2]
	if want := reconcile.MemoryLimitOf(reconcile.Size{Index: 100 * 32}); export0 < want {
		t.Errorf("limit once the export is read %d, want at least %d (its 100 entries)", export0, want)
	}
	if listed-export0 != 25*150 {
		t.Errorf("limit once the CRM's 150 customers are known: %d more than before, want %d", listed-export0, 25*150)
	}
	if got, want := compared-export0, int64(800*len(res.Items)); got != want {
		t.Errorf("limit once the listing is compared: %d more than the export's, want %d (800 bytes each of the %d items)",
			got, want, len(res.Items))
	}
}
