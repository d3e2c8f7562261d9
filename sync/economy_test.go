package sync_test

import (
	"testing"
	"time"

	"erpsync/mapping/genexport"
	"erpsync/sync"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/policy"
)

// economy is what the nightly runs of issue 25 §2 sent.
type economy struct {
	changes        int   // the nightly run's writes
	nightly        int64 // its requests, every kind
	after          int64 // the requests of the run after it
	afterWrites    int
	nightlyByRoute map[string]int64
	afterByRoute   map[string]int64
}

// measureEconomy imports n customers into crmsim with the CRM's clock
// moving at a real pace (one second every `pace` writes), runs once to
// read what the import wrote, then runs a nightly export with a share
// `changed` of its rows changed, and the run after it on the same export,
// counting crmsim's requests of the last two.
func measureEconomy(tb testing.TB, n int, changed float64, pace int) economy {
	gen := genexport.Options{Rows: n, Seed: 3, Changed: changed}
	cr := newCountRigDays(tb, testrig.Memory, gen, 100, crmsim.Options{})
	cr.every, cr.concurrency = pace, 4
	cr.do(tb, sync.ModeImport, policy.DriftReport)
	cr.clock.Advance(time.Hour)
	cr.do(tb, sync.ModeRun, policy.DriftReport)
	cr.clock.Advance(20 * time.Hour)

	var e economy
	cr.job.File = cr.day2
	before := cr.sim.Stats()
	pl := cr.do(tb, sync.ModeRun, policy.DriftReport)
	e.nightlyByRoute = statsDelta(before, cr.sim.Stats())
	e.nightly, e.changes = sumStats(e.nightlyByRoute), writes(pl)

	cr.clock.Advance(20 * time.Hour)
	before = cr.sim.Stats()
	pl = cr.do(tb, sync.ModeRun, policy.DriftReport)
	e.afterByRoute = statsDelta(before, cr.sim.Stats())
	e.after, e.afterWrites = sumStats(e.afterByRoute), writes(pl)
	return e
}

// afterWant is the bound of the run after a run that wrote w
// customers: 10 requests and a page per 100.
func afterWant(w int) int64 { return int64(10 + (w+99)/100) }

// TestEconomy_NightlyRuns (issue 25 §2) at 5,000 customers, 20% of them
// changed (as many writes as 1% of 100,000), written 37 a second: the
// nightly run sends its writes and at
// most 10 requests more (the pull, the counts: at 100,000 customers and
// 1%, BenchmarkEconomy100k, that is within the 1.02 requests a
// change), and the run after it at most 10 requests plus a page per 100
// customers the nightly run wrote (its pull read each page's last second
// again: 2 requests a page). crmsim counts the
// requests; no time is measured.
func TestEconomy_NightlyRuns(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and clock
	e := measureEconomy(t, 5_000, 0.20, 37)
	t.Logf("nightly run: %d changes, %d requests %v; the run after: %d requests %v",
		e.changes, e.nightly, e.nightlyByRoute, e.after, e.afterByRoute)
	if e.changes < 800 {
		t.Fatalf("%d changes planned; want about 20%% of 5,000", e.changes)
	}
	if e.nightly > int64(e.changes)+10 {
		t.Errorf("nightly run: %d requests for %d changes; want at most %d", e.nightly, e.changes, e.changes+10)
	}
	if e.after > afterWant(e.changes) || e.afterWrites != 0 {
		t.Errorf("the run after it: %d requests, %d writes; want at most %d, no write", e.after, e.afterWrites, afterWant(e.changes))
	}
}

// BenchmarkEconomy100k is TestEconomy_NightlyRuns at the 100,000
// managed customers: requests a change of the nightly run (target ≤
// 1.02) and the requests of the run after it against its bound (≤ 1).
func BenchmarkEconomy100k(b *testing.B) {
	for range b.N {
		e := measureEconomy(b, 100_000, 0.01, 100)
		b.ReportMetric(float64(e.nightly)/float64(e.changes), "req/change")
		b.ReportMetric(float64(e.after), "after-req")
		b.ReportMetric(float64(e.after)/float64(afterWant(e.changes)), "after/bound")
		b.Logf("nightly: %d changes, %v; after: %v", e.changes, e.nightlyByRoute, e.afterByRoute)
		if float64(e.nightly) > 1.02*float64(e.changes) || e.after > afterWant(e.changes) {
			b.Errorf("over target: nightly %d requests for %d changes, after %d (bound %d)", e.nightly, e.changes, e.after, afterWant(e.changes))
		}
	}
}

// writes is what plan p sends: its upserts and deletes.
func writes(p *plan.Plan) int {
	return p.Count(plan.OpCreate) + p.Count(plan.OpUpdate) + p.Count(plan.OpDelete)
}

func sumStats(s map[string]int64) int64 {
	var n int64
	for _, c := range s {
		n += c
	}
	return n
}

// statsDelta is what crmsim counted between two of its stats.
func statsDelta(before, after map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for op, c := range after {
		if c != before[op] {
			d[op] = c - before[op]
		}
	}
	return d
}
