package sync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan/policy"
)

// gets is the number of GET requests crmsim has served.
func gets(sim *crmsim.Server) int64 {
	var n int64
	for op, c := range sim.Stats() {
		if strings.HasPrefix(op, "GET ") {
			n += c
		}
	}
	return n
}

// TestCount_WindowsFollowCustomersNotSeconds: the run after an import
// counts what the import wrote in windows of about 1,000 known customers
// (at least 3), however long the import took. The same 1,000 rows
// imported at 100 writes a second (10 s of the CRM's clock) and at one
// write every 10 s (3 hours) cost the next run the same requests: its
// pull and 3 counts. Counting one window per second would cost 13 and
// 1,002 (the pull, a count of the empty span before
// 1970-01-01T00:00:01Z, and a count per second).
func TestCount_WindowsFollowCustomersNotSeconds(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and clock
	const rows, pageSize = 1000, 100
	paces := []struct {
		name  string
		every int
		step  time.Duration
	}{
		{"100 writes a second", 100, time.Second},
		{"a write every 10 s", 1, 10 * time.Second},
	}
	var costs []int64
	for _, pace := range paces {
		t.Run(pace.name, func(t *testing.T) {
			cr := newCountRig(t, rows, pageSize)
			cr.every, cr.step = pace.every, pace.step
			cr.job.Settings.Lookback = 0
			start := cr.clock.Now()
			cr.do(t, sync.ModeImport, policy.DriftReport)
			span := cr.clock.Now().Sub(start)
			cr.clock.Advance(time.Hour)
			before := cr.sim.Stats()
			pl := cr.do(t, sync.ModeRun, policy.DriftReport)
			after := cr.sim.Stats()
			lists := after[crm.OpList] - before[crm.OpList]
			shows := after[crm.OpShowByReference] - before[crm.OpShowByReference]
			t.Logf("import spanning %s: the next run sent %d list requests, %d lookups", span, lists, shows)
			if lists > 1+3 || shows != 0 {
				t.Errorf("the run after an import spanning %s sent %d list requests and %d lookups; want its pull and 3 counts, no lookup",
					span, lists, shows)
			}
			if len(pl.Drift) != 0 {
				t.Errorf("nothing was changed by hand, yet drift: %+v", pl.Drift)
			}
			costs = append(costs, lists)
		})
	}
	if len(costs) == 2 && costs[0] != costs[1] {
		t.Errorf("the next run's cost depends on the import's duration: %d and %d list requests", costs[0], costs[1])
	}
}

// TestCount_RealPace: a 3,000-row import at a real CRM's pace
// (concurrency 4, the CRM's clock moving one second every 100 writes: 30 s
// of the CRM's clock, as with -latency 40ms), with a hand edit, a hand
// delete and a hand create made during it. The next run finds all three
// for at most 25 GETs (its pull, 3 counts, the narrowing of the windows
// that differ and the lookup of the deleted customer: 13-19); counting one
// window per second cost 31-32 (58 for 5,000 rows). The pace is the CRM's clock, moved by the
// writes, not waited for: crmsim has no latency here (5 ms made the test
// wait 6 s for the same clock; 20 GETs then), and the 4 workers' writes
// still interleave. No time is measured: crmsim counts the requests.
func TestCount_RealPace(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and clock
	const rows, pageSize = 3000, 100
	cr := newCountRigOpts(t, rows, pageSize, crmsim.Options{})
	cr.every, cr.concurrency = 100, 4
	cr.job.Settings.Lookback = 0
	var deleted, edited string
	var handErr error
	cr.during = func(n int, posted []string) {
		if n != 2000 {
			return
		}
		for _, ref := range posted[200:300] { // one without sub-customers: the CRM refuses the others
			if cr.store.DeleteByReference(ref) == nil {
				deleted = ref
				break
			}
		}
		edited = posted[700]
		if _, err := cr.store.Put(edited, map[string]string{"name": "Edited during the import"}); err != nil {
			handErr = err
		}
		if _, err := cr.store.Put("HAND-A", map[string]string{"name": "Made by hand"}); err != nil {
			handErr = err
		}
	}
	cr.do(t, sync.ModeImport, policy.DriftReport)
	cr.during = nil
	if deleted == "" || handErr != nil {
		t.Fatalf("hand work during the import: deleted %q, %v", deleted, handErr)
	}

	cr.clock.Advance(time.Hour)
	before := gets(cr.sim)
	pl := cr.do(t, sync.ModeRun, policy.DriftReport)
	got := gets(cr.sim) - before
	t.Logf("the run after a %d-row import: %d GETs (reading it: %d pages)", rows, got, rows/pageSize)
	if got > 25 {
		t.Errorf("the run after the import sent %d GETs; want at most 25", got)
	}
	drift := driftOf(pl)
	if d, ok := drift[deleted]; !ok || !d.Deleted {
		t.Errorf("hand delete during the import of %s not found: drift %+v", deleted, d)
	}
	if d, ok := drift[edited]; !ok || d.Deleted {
		t.Errorf("hand edit during the import of %s not found: drift %+v", edited, d)
	}
	if len(drift) != 2 {
		t.Errorf("drift: %+v; want only %s and %s", pl.Drift, deleted, edited)
	}
	assertHandCreated(t, cr, pl, 1, "HAND-A")
	if n, err := inspect(t, cr.job.State).UnmanagedCount(context.Background()); err != nil || n != 1 {
		t.Errorf("UnmanagedCount = %d, %v; want 1 (HAND-A)", n, err)
	}
}

// TestCount_BlindSpotFoundByFullCheck: a hand edit landing in the window
// erpsync wrote the customer in (a few writes after it, during the
// import) leaves that window's count as it was: the runs that count may
// not see it, and the walk of every customer once per sync.full_check
// finds it.
func TestCount_BlindSpotFoundByFullCheck(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and clock
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		const rows, pageSize = 1500, 100
		cr := newCountRigOn(t, impl, rows, pageSize, crmsim.Options{})
		cr.every = 100
		cr.job.Settings.Lookback = 0
		cr.job.Settings.FullCheck = 2 * time.Hour
		var edited string
		var handErr error
		cr.during = func(n int, posted []string) {
			if n == 1200 {
				edited = posted[1195]
				_, handErr = cr.store.Put(edited, map[string]string{"name": "Edited right after its write"})
			}
		}
		cr.do(t, sync.ModeImport, policy.DriftReport)
		cr.during = nil
		if edited == "" || handErr != nil {
			t.Fatalf("hand edit during the import: %q, %v", edited, handErr)
		}
		cr.clock.Advance(time.Hour)
		pl := cr.do(t, sync.ModeRun, policy.DriftReport)
		t.Logf("the counting run after the import: drift %+v (the blind spot: none expected)", pl.Drift)
		cr.clock.Advance(time.Hour)
		lists := cr.sim.Stats()[crm.OpList]
		pl = cr.do(t, sync.ModeRun, policy.DriftReport)
		t.Logf("the full walk: %d list requests", cr.sim.Stats()[crm.OpList]-lists)
		if d, ok := driftOf(pl)[edited]; !ok || d.Deleted || len(pl.Drift) != 1 {
			t.Errorf("the full walk did not find the hand edit of %s: drift %+v", edited, pl.Drift)
		}
	})
}

// TestCount_ManyDifferencesCostNoMoreThanReading: when many customers of
// a window differ, narrowing each would cost more than reading the
// window: it is read. 30 hand deletes spread over what a 1,500-row import
// wrote (3 windows of 5 pages) cost at most the pull, the 3 counts and
// the 15 pages, and each is found.
func TestCount_ManyDifferencesCostNoMoreThanReading(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and clock
	const rows, pageSize = 1500, 100
	cr := newCountRig(t, rows, pageSize)
	cr.every = 100
	cr.job.Settings.Lookback = 0
	cr.do(t, sync.ModeImport, policy.DriftReport)
	var deleted []string
	for i := 0; i < len(cr.posted) && len(deleted) < 30; i += 7 {
		if ref := cr.posted[i]; cr.store.DeleteByReference(ref) == nil { // leaves only: the CRM refuses the others
			deleted = append(deleted, ref)
			i += len(cr.posted) / 40
		}
	}
	cr.clock.Advance(time.Hour)
	lists := cr.sim.Stats()[crm.OpList]
	pl := cr.do(t, sync.ModeRun, policy.DriftReport)
	got := cr.sim.Stats()[crm.OpList] - lists
	t.Logf("%d hand deletes: %d list requests (reading it all: %d pages)", len(deleted), got, rows/pageSize)
	if len(deleted) != 30 {
		t.Fatalf("%d hand deletes, want 30", len(deleted))
	}
	if got > 1+3+rows/pageSize {
		t.Errorf("%d list requests; want at most the pull, 3 counts and %d pages", got, rows/pageSize)
	}
	drift := driftOf(pl)
	for _, ref := range deleted {
		if !drift[ref].Deleted {
			t.Errorf("hand delete of %s not found", ref)
		}
	}
}
