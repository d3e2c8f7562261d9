package sync_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/benchkit"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
)

func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) * 1024
		}
	}
	return 0
}

// day1Checkpoint returns the large exports and a checkpoint holding day 1
// as if it had been pushed, built once into testdata/large (git-ignored;
// benchkit.Checkpoint).
func day1Checkpoint(b *testing.B, m *mapping.Mapping) (string, string, *sqlite.DB) {
	if testing.Short() {
		b.Skip("-short: the 1,000,000-row files take a minute to build")
	}
	dir := filepath.Join("..", "testdata", "large")
	d1, d2, err := genexport.Ensure(dir, genexport.LargeOptions)
	if err != nil {
		b.Fatal(err)
	}
	return d1, d2, benchkit.Checkpoint(b, m, filepath.Join(dir, "day1.db"), d1)
}

func mappingRows(m *mapping.Mapping, path string) plan.Rows {
	return func(fn func(mapping.Row) error) error {
		_, err := m.Read(context.Background(), path, fn)
		return err
	}
}

// BenchmarkPlan1M plans the 1,000,000-row day-2 export against the
// checkpoint of day 1, and reads the same file through the mapping alone
// in the same run: the ratio of the two and the plan's peak RSS are
// reported.
func BenchmarkPlan1M(b *testing.B) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	_, day2, db := day1Checkpoint(b, m)
	if limit := os.Getenv("BENCH_MEMLIMIT_MB"); limit != "" {
		mb, _ := strconv.Atoi(limit)
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(mb) << 20))
	}
	var read, pl time.Duration
	var peak float64
	var p *plan.Plan
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := mappingRows(m, day2)(func(mapping.Row) error { return nil }); err != nil {
			b.Fatal(err)
		}
		read += time.Since(start)

		d, rss, planned := timedPlan(b, m, day2, db)
		p, pl, peak = planned, pl+d, max(peak, rss)
	}
	b.ReportMetric(float64(read.Nanoseconds())/float64(b.N), "read-ns/op")
	b.ReportMetric(float64(pl.Nanoseconds())/float64(b.N), "plan-ns/op")
	b.ReportMetric(float64(pl)/float64(read), "ratio")
	b.ReportMetric(peak/(1<<20), "peak-MB")
	b.ReportMetric(float64(p.Count(plan.OpCreate)), "creates")
	b.ReportMetric(float64(p.Count(plan.OpUpdate)), "updates")
	b.ReportMetric(float64(p.Count(plan.OpDelete)), "deletes")
}

// BenchmarkPlanDay2 plans the 1,000,000-row day-2 export against the
// checkpoint of day 1 and, in the same run, reads the same file bare with
// encoding/csv (the floor: no decoding of values, no mapping, no hash):
// the plan's time as a multiple of the floor, and its peak RSS, are the
// acceptance figures of issue 14 §2 (≤ 3×, ≤ 150 MiB).
func BenchmarkPlanDay2(b *testing.B) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	day1, day2, db := day1Checkpoint(b, m)
	// The collector as erpsync sets it (cmd/erpsync/main.go: GOGC=50;
	// memory.go: the plan's soft memory limit).
	defer debug.SetGCPercent(debug.SetGCPercent(50))
	managed, err := db.Count(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(plan.MemoryLimit(managed)))
	peer, err := exec.LookPath("csvdiff")
	if err != nil {
		b.Log("csvdiff is not on PATH: no ratio to the peer (go install github.com/aswinkarthik/csvdiff@v1.4.0)")
	}
	var floor, pl, csvdiff time.Duration
	var peak float64
	var p *plan.Plan
	planCPU, planAlloc, planGCs = 0, 0, 0
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		bareRead(b, day2)
		floor += time.Since(start)
		if peer != "" {
			csvdiff += runPeer(b, peer, day1, day2)
		}

		p = nil // the last plan can go before the next is measured
		d, rss, planned := timedPlan(b, m, day2, db)
		p, pl, peak = planned, pl+d, max(peak, rss)
	}
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(pl.Nanoseconds())/float64(b.N), "plan-ns/op")
	b.ReportMetric(float64(pl)/float64(floor), "x-floor")
	b.ReportMetric(planCPU.Seconds()/float64(b.N), "plan-cpu-s")
	b.ReportMetric(float64(planAlloc)/float64(b.N)/(1<<20), "plan-alloc-MiB")
	b.ReportMetric(float64(planGCs)/float64(b.N), "plan-GCs")
	if csvdiff > 0 {
		b.ReportMetric(float64(pl)/float64(csvdiff), "x-csvdiff")
	}
	b.ReportMetric(peak/(1<<20), "peak-MiB")
	if n := p.Count(plan.OpCreate) + p.Count(plan.OpUpdate) + p.Count(plan.OpDelete); n < 15_000 {
		b.Fatalf("day 2 planned %d actions, want about 20,000", n)
	}
}

// runPeer times csvdiff on the same two files (issue 14 names it as the
// peer: the plan must take at most half its time), its output discarded.
func runPeer(b *testing.B, csvdiff, day1, day2 string) time.Duration {
	cmd := exec.Command(csvdiff, day1, day2, "-s", ";", "-o", "rowmark")
	start := time.Now()
	if out, err := cmd.Output(); err != nil {
		b.Fatalf("csvdiff: %v (%d bytes of output)", err, len(out))
	}
	return time.Since(start)
}

// timedPlan plans an export against db for mirror deletes, from a fresh
// peak: its time, the peak RSS meanwhile and the plan.
func timedPlan(b *testing.B, m *mapping.Mapping, path string, db plan.Checkpoint) (time.Duration, float64, *plan.Plan) {
	// The memory the benchmark used before (building the checkpoint, the
	// floor's read) back to the system: `erpsync plan` starts without it.
	debug.FreeOSMemory()
	resetPeakRSS()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	alloc, cycles := ms.TotalAlloc, ms.NumGC
	start, cpu := time.Now(), cpuTime()
	p, err := plan.Build(context.Background(), sync.PlanRows(context.Background(), m, path), db, plan.Options{
		Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 100, IsPercent: true}),
	})
	d := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	planCPU += cpuTime() - cpu
	runtime.ReadMemStats(&ms)
	planAlloc += ms.TotalAlloc - alloc
	planGCs += ms.NumGC - cycles
	return d, peakRSS(), p
}

// planCPU adds up the process's CPU time (user and system) over the
// plans of a benchmark: a figure the shared machine's load moves less
// than the wall time, to compare two versions of the code.
var planCPU time.Duration

// planAlloc and planGCs add up the bytes allocated and the collections
// over the plans of a benchmark: figures the machine's load does not move.
var (
	planAlloc uint64
	planGCs   uint32
)

// cpuTime returns the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareRead is genexport.FloorRead, failing the benchmark on error.
func bareRead(b *testing.B, path string) int {
	n, err := genexport.FloorRead(path)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkPlanImport1M plans the 1,000,000-row day-1 export against an
// empty checkpoint, as an import does (lean: the customers are read again
// by apply.Run): a million creates. Its peak RSS is reported.
func BenchmarkPlanImport1M(b *testing.B) {
	if testing.Short() {
		b.Skip("-short")
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	day1, _, err := genexport.Ensure(filepath.Join("..", "testdata", "large"), genexport.LargeOptions)
	if err != nil {
		b.Fatal(err)
	}
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "empty.db"))
	if err := db.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var peak float64
	var p *plan.Plan
	b.ResetTimer()
	for range b.N {
		p = nil
		runtime.GC()
		resetPeakRSS()
		p, err = plan.Build(context.Background(), sync.PlanRows(context.Background(), m, day1), db, plan.Options{ImportOnly: true, Lean: true})
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, peakRSS())
	}
	b.ReportMetric(peak/(1<<20), "peak-MB")
	b.ReportMetric(float64(p.Count(plan.OpCreate)), "creates")
}

// BenchmarkSteadyState1M is a run once the checkpoint is current: the
// refresh finds nothing, the plan finds nothing, nothing is sent. The
// bare read of the same file in the same run is the floor (issue 14:
// ≤ 4×, 0 writes).
func BenchmarkSteadyState1M(b *testing.B) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	day1, _, db := day1Checkpoint(b, m)
	sim := crmsim.NewDefault()
	ts := httptest.NewServer(sim)
	defer ts.Close()
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		b.Fatal(err)
	}
	var floor, steady time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		bareRead(b, day1)
		floor += time.Since(start)
		start = time.Now()
		sum, err := benchkit.SteadyRun(context.Background(), m, day1, db, client)
		if err != nil {
			b.Fatal(err)
		}
		steady += time.Since(start)
		if sum.OK[plan.OpUpdate] != 0 {
			b.Fatalf("steady state updated %d customers", sum.OK[plan.OpUpdate])
		}
	}
	b.ReportMetric(float64(steady)/float64(floor), "x-floor")
	st := sim.Stats()
	b.ReportMetric(float64(st[crm.OpUpsert]+st[crm.OpDeleteByReference]), "writes")
}

// BenchmarkApply measures upserts per second end to end: crmsim over
// loopback HTTP, the bounded errgroup, and the checkpoint's writer.
func BenchmarkApply(b *testing.B) {
	for _, tc := range []struct {
		latency     time.Duration
		concurrency int
		rows        int
	}{
		{20 * time.Millisecond, 16, 5000},
		{0, 8, 5000},
	} {
		b.Run(fmt.Sprintf("latency=%s/concurrency=%d", tc.latency, tc.concurrency), func(b *testing.B) {
			m, err := mapping.New(genexport.Config(), nil)
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			day1, _, err := genexport.WriteFiles(dir, genexport.Options{Rows: tc.rows, Seed: 2})
			if err != nil {
				b.Fatal(err)
			}
			var total time.Duration
			var sent int
			for i := range b.N {
				store, _ := crmsim.NewStore(crmsim.DefaultSeed())
				ts := httptest.NewServer(crmsim.New(store, crmsim.Options{Latency: tc.latency, FaultSeed: 1}))
				client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Concurrency: tc.concurrency})
				if err != nil {
					b.Fatal(err)
				}
				db := sqlite.NewDB(filepath.Join(dir, fmt.Sprintf("state-%d.db", i)))
				if err := db.Open(context.Background()); err != nil {
					b.Fatal(err)
				}
				p, err := plan.Build(context.Background(), sync.PlanRows(context.Background(), m, day1), db, plan.Options{})
				if err != nil {
					b.Fatal(err)
				}
				w := db.NewWriter(500, 250*time.Millisecond)
				start := time.Now()
				sum, err := apply.Run(context.Background(), p, client, w, apply.Options{Concurrency: tc.concurrency, CountryCode: mapping.CountryCode})
				if err == nil {
					err = w.Close()
				}
				total += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				sent += sum.OK[plan.OpCreate]
				if n, _ := db.Count(context.Background()); n != sum.OK[plan.OpCreate] || n != tc.rows {
					b.Fatalf("checkpoint holds %d, %d created, %d rows", n, sum.OK[plan.OpCreate], tc.rows)
				}
				db.Close()
				ts.Close()
				client.Close()
			}
			rate := float64(sent) / total.Seconds()
			b.ReportMetric(rate, "upserts/s")
			if tc.latency > 0 {
				ideal := float64(tc.concurrency) / tc.latency.Seconds()
				b.ReportMetric(100*rate/ideal, "%ideal")
			}
		})
	}
}
