package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/reconcile"
)

// heapAt is the checkpoint of a reconciliation that measures, when Run
// asks it for the failures (once the CRM is listed, before the
// references are judged), the heap held since it was made.
type heapAt struct {
	state.Checkpoint
	before, held uint64
}

func newHeapAt(cp state.Checkpoint) *heapAt {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return &heapAt{Checkpoint: cp, before: m.HeapAlloc}
}

func (h *heapAt) Failures(ctx context.Context) ([]state.Failure, error) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	h.held = m.HeapAlloc - min(m.HeapAlloc, h.before)
	return h.Checkpoint.Failures(ctx)
}

// Issue 25 §5: what a reconciliation needs of the CRM's records that
// differ from the export (their compared values) is spilled to a
// temporary file of Options.SpillDir, not held in memory: 4,000
// customers that all differ held 5.7 MiB while the references were
// judged, 0.8 MiB since (20,000: 58 MiB before). The file is gone once Run returns, and the
// report is as before, field by field.
func TestReconcile_DifferingRecordsSpilled(t *testing.T) {
	ctx := context.Background()
	r := testrig.New(t, crmsim.Options{}, "", 4)
	const n = 4_000
	long := strings.Repeat("Rue de la Paix ", 16)
	export := make([]mapping.Row, 0, n)
	for i := range n {
		ref := fmt.Sprintf("D%05d", i)
		if _, err := r.Store.Put(ref, map[string]string{"name": "Name of " + ref, "billingAddress": fmt.Sprint(long, i)}); err != nil {
			t.Fatal(err)
		}
		export = append(export, plantest.Cust(2+i, ref, fmt.Sprint("billingAddress=", i, " Main Street")))
	}
	dir := t.TempDir()
	// A first reconciliation fills crmsim's cache of its answers (in this
	// process): the second one's heap is the reconciliation's alone.
	if _, err := reconcile.Run(ctx, plantest.Rows(export...), r.Client, r.CP, reconcile.Options{SpillDir: dir}); err != nil {
		t.Fatal(err)
	}
	cp := newHeapAt(r.CP)
	res, err := reconcile.Run(ctx, plantest.Rows(export...), r.Client, cp, reconcile.Options{SpillDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heap held once the CRM was listed: %.1f MiB", float64(cp.held)/(1<<20))
	if cp.held > 3<<20 {
		t.Errorf("%.1f MiB held once the CRM was listed, want under 3: the differing records are kept in memory",
			float64(cp.held)/(1<<20))
	}
	if res.Summary.Different != n || res.Summary.Matched != 0 || len(res.Items) != n {
		t.Fatalf("summary %+v, %d items; want %d different", res.Summary, len(res.Items), n)
	}
	it := res.Items[n-1]
	if d := it.Differences; it.Reference != fmt.Sprintf("D%05d", n-1) || len(d) != 1 || d[0].Field != "billingAddress" ||
		d[0].ERP != fmt.Sprint(n-1, " Main Street") || d[0].CRM != fmt.Sprint(long, n-1) {
		t.Errorf("last item %+v, want its billingAddress, ERP against CRM", it)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left in the spill folder, want none", len(left))
	}
}

// The command's memory limit follows both sides (reconcile.MemoryLimit):
// Sized is told the export's references once it is read, then the CRM's
// customers once the listing knows them, a CRM that holds many more
// customers than the export included.
func TestReconcile_SizedByBothSides(t *testing.T) {
	r := testrig.New(t, crmsim.Options{}, "", 4)
	for i := range 50 {
		if _, err := r.Store.Put(fmt.Sprintf("C%02d", i), map[string]string{"name": "Only in the CRM"}); err != nil {
			t.Fatal(err)
		}
	}
	var told [][2]int
	opt := reconcile.Options{Sized: func(refs, customers int) { told = append(told, [2]int{refs, customers}) }}
	export := plantest.Rows(plantest.Cust(2, "A"), plantest.Cust(3, "B"))
	if _, err := reconcile.Run(context.Background(), export, r.Client, r.CP, opt); err != nil {
		t.Fatal(err)
	}
	crm := r.Store.Len()
	if len(told) < 2 || told[0] != [2]int{2, 0} || told[len(told)-1] != [2]int{2, crm} {
		t.Errorf("Sized told %v, want [2 0] then [2 %d]", told, crm)
	}
	if small, big := reconcile.MemoryLimit(2, 0), reconcile.MemoryLimit(2, 4_000_000); big-small < 4_000_000*24 {
		t.Errorf("MemoryLimit grows by %d bytes for 4M customers listed, want at least 24 each", big-small)
	}
}
