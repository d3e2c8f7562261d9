package sync_test

import (
	"context"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/policy"
)

// countRig is an engine job over crmsim and a checkpoint sharing one test
// clock, which moves step (one second unless told) every `every` upserts;
// the import runs with concurrency (1 unless told); during, when set,
// is called before each upsert is served with its number and the
// references upserted so far (hand work during an import).
type countRig struct {
	job   sync.Job
	sim   *crmsim.Server
	store *crmsim.Store
	clock *testrig.Clock
	every int
	step  time.Duration
	// concurrency of the runs: 1 keeps the import's writes in export
	// order, so that the test knows which second each is in.
	concurrency int

	day2 string // the day-2 export of the rig's options

	mu     gosync.Mutex
	posted []string
	during func(n int, posted []string)
}

func newCountRig(t *testing.T, rows, pageSize int) *countRig {
	t.Helper()
	return newCountRigOpts(t, rows, pageSize, crmsim.Options{})
}

// newCountRigOpts is newCountRig with crmsim's options (a latency, say);
// its clock is the rig's, its checkpoint in memory.
func newCountRigOpts(t *testing.T, rows, pageSize int, opts crmsim.Options) *countRig {
	t.Helper()
	return newCountRigOn(t, testrig.Memory, rows, pageSize, opts)
}

// newCountRigOn is newCountRigOpts on a checkpoint of impl.
func newCountRigOn(t *testing.T, impl testrig.Impl, rows, pageSize int, opts crmsim.Options) *countRig {
	t.Helper()
	return newCountRigDays(t, impl, genexport.Options{Rows: rows, Seed: 3}, pageSize, opts)
}

// newCountRigDays is newCountRigOn over the exports of gen (day 2 in
// cr.day2).
func newCountRigDays(t testing.TB, impl testrig.Impl, gen genexport.Options, pageSize int, opts crmsim.Options) *countRig {
	t.Helper()
	dir := t.TempDir()
	day1, day2, err := genexport.WriteFiles(dir, gen)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cr := &countRig{clock: testrig.NewClock(), every: 20, step: time.Second, concurrency: 1, day2: day2}
	opts.Now = cr.clock.Now
	client, sim := testrig.NewFake(t, opts)
	client.PageSize, client.Before = pageSize, cr.before
	cr.sim, cr.store = sim, sim.Store
	db := testrig.NewCheckpoint(t, impl, cr.clock.Now, 0)
	cr.job = sync.Job{Mode: sync.ModeImport, File: day1, Mapping: m, CRM: client, State: db, Log: zap.NewNop(),
		Settings: sync.Settings{Concurrency: 2, MaxFailures: testrig.EveryFailure, MaxDelete: testrig.EveryDelete,
			Drift: policy.DriftERPWins, Lookback: time.Minute, ReportsDir: filepath.Join(dir, "reports")}}
	return cr
}

// before sees each call before crmsim serves it (crmmem's Before): an
// upsert moves the clock every `every` and calls during.
func (cr *countRig) before(op, ref string) error {
	if op == crm.OpUpsert {
		cr.mu.Lock()
		cr.posted = append(cr.posted, ref)
		n := len(cr.posted)
		if n%cr.every == 0 {
			cr.clock.Advance(cr.step)
		}
		if cr.during != nil {
			cr.during(n, cr.posted)
		}
		cr.mu.Unlock()
	}
	return nil
}

// do runs the job in mode with policy and returns its plan.
func (cr *countRig) do(t testing.TB, mode sync.Mode, policy policy.DriftPolicy) *plan.Plan {
	t.Helper()
	j := cr.job
	j.Mode, j.Settings.Drift = mode, policy
	j.Settings.Concurrency = cr.concurrency
	out, err := sync.Run(context.Background(), j)
	if err != nil {
		t.Fatalf("%s: %v", mode, err)
	}
	return out.Plan
}

// handDelete deletes a customer behind erpsync's back.
func (cr *countRig) handDelete(t *testing.T, ref string) {
	t.Helper()
	if err := cr.store.DeleteByReference(ref); err != nil {
		t.Fatalf("hand delete %s: %v", ref, err)
	}
}

// handPut edits or creates a customer behind erpsync's back.
func (cr *countRig) handPut(t *testing.T, ref, name string) {
	t.Helper()
	if _, err := cr.store.Put(ref, map[string]string{"name": name}); err != nil {
		t.Fatalf("hand put %s: %v", ref, err)
	}
}

// inspect is a checkpoint's Inspector (both implementations have it).
func inspect(t *testing.T, cp state.Checkpoint) state.Inspector {
	t.Helper()
	in, ok := cp.(state.Inspector)
	if !ok {
		t.Fatalf("%T is no state.Inspector", cp)
	}
	return in
}

// driftOf returns the plan's drift by reference.
func driftOf(p *plan.Plan) map[string]plan.Drift {
	out := map[string]plan.Drift{}
	for _, d := range p.Drift {
		out[d.Reference] = d
	}
	return out
}

// reasonOf returns the reason of the upsert planned for ref, or "".
func reasonOf(p *plan.Plan, ref string) string {
	for _, a := range p.Actions() {
		if a.Reference == ref {
			return a.Reason
		}
	}
	return ""
}

// TestCount_FindsHandWork: hand deletes, hand creates and hand edits made
// during an import and between runs are all found by counting windows of
// lastUpdated, without paging through what the import wrote; a delete is
// put back (erp_wins) or listed (report), a hand create is counted and
// never touched, and a run after which nothing changed costs at most 3
// requests more than its pull.
func TestCount_FindsHandWork(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and folder
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		const rows, pageSize = 300, 10
		cr := newCountRigOn(t, impl, rows, pageSize, crmsim.Options{})
		cr.job.Settings.Lookback = 0 // one clock: no skew to allow for
		ctx := context.Background()
		var deleted, edited string
		var handErr error
		cr.during = func(n int, posted []string) {
			if n != 150 {
				return
			}
			for _, ref := range posted[4:40] { // the first that has no sub-customers
				if cr.store.DeleteByReference(ref) == nil {
					deleted = ref
					break
				}
			}
			edited = posted[60]
			if _, err := cr.store.Put(edited, map[string]string{"name": "Edited during the import"}); err != nil {
				handErr = err
			}
			if _, err := cr.store.Put("HAND-A", map[string]string{"name": "Made by hand"}); err != nil {
				handErr = err
			}
		}
		cr.do(t, sync.ModeImport, policy.DriftERPWins)
		cr.during = nil
		if deleted == "" || handErr != nil {
			t.Fatalf("hand work during the import: deleted %q, %v", deleted, handErr)
		}

		cr.clock.Advance(time.Hour)
		lists := cr.sim.Stats()[crm.OpList]
		p := cr.do(t, sync.ModeRun, policy.DriftERPWins)
		got := cr.sim.Stats()[crm.OpList] - lists
		t.Logf("first run after the import: %d list requests (reading it: %d pages)", got, rows/pageSize)
		if got >= rows/pageSize {
			t.Errorf("first run after the import sent %d list requests: it paged through the import (%d pages)", got, rows/pageSize)
		}
		drift := driftOf(p)
		if d, ok := drift[deleted]; !ok || !d.Deleted || reasonOf(p, deleted) != plan.ReasonDeletedByHand {
			t.Errorf("hand delete during the import of %s: drift %+v, reason %q", deleted, d, reasonOf(p, deleted))
		}
		if d, ok := drift[edited]; !ok || d.Deleted || reasonOf(p, edited) != plan.ReasonDrift {
			t.Errorf("hand edit during the import of %s: drift %+v, reason %q", edited, d, reasonOf(p, edited))
		}
		if _, ok := cr.store.ByReference(deleted); !ok {
			t.Errorf("erp_wins did not put %s back", deleted)
		}
		assertHandCreated(t, cr, p, 1, "HAND-A")

		// Between runs: a delete in the verified span, a delete of what the
		// last run wrote (the pulled span), an edit and a create.
		cr.clock.Advance(time.Hour)
		old := cr.posted[210]
		cr.handDelete(t, old)
		cr.handDelete(t, deleted)
		edited2 := cr.posted[250]
		cr.handPut(t, edited2, "Edited between runs")
		cr.handPut(t, "HAND-B", "Made by hand too")
		cr.clock.Advance(time.Hour)
		p = cr.do(t, sync.ModeRun, policy.DriftReport)
		drift = driftOf(p)
		for _, ref := range []string{old, deleted} {
			if d, ok := drift[ref]; !ok || !d.Deleted || reasonOf(p, ref) != "" {
				t.Errorf("hand delete of %s between runs: drift %+v, reason %q (want listed, not sent)", ref, d, reasonOf(p, ref))
			}
		}
		if d, ok := drift[edited2]; !ok || d.Deleted {
			t.Errorf("hand edit of %s between runs: drift %+v", edited2, d)
		}
		assertHandCreated(t, cr, p, 2, "HAND-A", "HAND-B")
		gone, err := cr.job.State.DeletedByHand(ctx)
		if err != nil || len(gone) != 2 {
			t.Errorf("DeletedByHand = %v, %v; want %s and %s", gone, err, old, deleted)
		}

		// Nothing changed since: the counts agree at the cost of a few requests.
		cr.clock.Advance(time.Hour)
		lists = cr.sim.Stats()[crm.OpList]
		shows := cr.sim.Stats()[crm.OpShowByReference]
		p = cr.do(t, sync.ModeRun, policy.DriftReport)
		if got := cr.sim.Stats()[crm.OpList] - lists; got > 1+3 {
			t.Errorf("a run with nothing changed sent %d list requests; want its pull (1) and at most 3 counts", got)
		}
		if got := cr.sim.Stats()[crm.OpShowByReference] - shows; got != 0 {
			t.Errorf("a run with nothing changed looked up %d customers", got)
		}
		if d := driftOf(p); !d[old].Deleted || !d[deleted].Deleted || len(d) != 2 {
			t.Errorf("report: the hand deletes are no longer listed: %+v", p.Drift)
		}
	})
}

// assertHandCreated checks that the customers created by hand are counted
// and that the plan leaves them alone.
func assertHandCreated(t *testing.T, cr *countRig, p *plan.Plan, want int, refs ...string) {
	t.Helper()
	n, err := inspect(t, cr.job.State).UnmanagedCount(context.Background())
	if err != nil || n != want {
		t.Errorf("UnmanagedCount = %d, %v; want %d", n, err, want)
	}
	for _, ref := range refs {
		if reasonOf(p, ref) != "" || driftOf(p)[ref].Reference != "" {
			t.Errorf("the plan touches %s, created by hand", ref)
		}
		if _, ok := cr.store.ByReference(ref); !ok {
			t.Errorf("%s, created by hand, is gone", ref)
		}
	}
}
