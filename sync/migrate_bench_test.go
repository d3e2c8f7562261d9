package sync_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	gosync "sync"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/state/compact"
	"erpsync/state/sqlite"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/benchkit"
)

var ctx = context.Background()

// fixedNow is when the legacy checkpoint's records were pushed.
var fixedNow = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// legacyDir holds the legacy checkpoint written for this process
// (ERPSYNC_LEGACY_1M unset): removed at its end.
var legacyDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if legacyDir != "" {
		os.RemoveAll(legacyDir)
	}
	os.Exit(code)
}

// bytesPerRecord is the size of the file at path (its WAL checkpointed
// into it) over n records.
func bytesPerRecord(tb testing.TB, path string, n int) float64 {
	tb.Helper()
	c, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return float64(st.Size()) / float64(n)
}

// BenchmarkMigrate1M migrates a checkpoint of 1,000,000 records written
// as erpsync wrote them before migration 008 (JSON values; 1% of the
// CRM's copies differing from what was pushed) in place, and in the same
// run measures on the migrated file the two denominators of issue 25 §4
// ("≤ 2× a steady run"):
//   - steady-run-s: a user's steady `erpsync run` of those customers
//     (migSteadyRun: the open, the page check beside the refresh, the plan
//     of the export the checkpoint was written from, nothing to send), as
//     sync's BenchmarkSteadyState1M runs it plus the open and the check;
//     its bare read of the export beside it (floor-s);
//   - steady-checkpoint-s: the checkpoint's part of it alone (steadyWork:
//     open, page check, every hash and row sum, the known count), the
//     stricter ratio.
//
// The customers are the benchmarks' day-1 export (testdata/large,
// genexport.LargeOptions: 25 columns), mapped as a run maps them. Reported:
// bytes a customer before and after, the migration's seconds (and its
// CPU seconds, migrate-cpu-s), and its
// ratios to both, in wall time and in the process's CPU time; copy-s is the
// part until the last batch is copied (the new file complete, indexed;
// last-step-s that batch: the wait for the copy after the split, the
// merge of its file, the index builds, the other tables),
// install-s its install over the checkpoint (of which compare-s, the
// comparisons before the lock, lock-s, out of WAL mode and locked, and
// sync-s, the new file's sync), the rest
// the later migrations and the new file's page check. The old checkpoint is written once a
// process (or kept: legacyMillion), and copied for each iteration.
func BenchmarkMigrate1M(b *testing.B) {
	if testing.Short() {
		b.Skip("a checkpoint of 1,000,000 records: not with -short")
	}
	const n = 1_000_000
	legacy, export := legacyMillion(b)
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "legacy.db")
		copyFile(b, legacy, path)
		before := bytesPerRecord(b, path, n)
		runtime.GC()
		var copied, prev time.Time // the last batch's end (the new file complete, indexed), the one before
		steps := map[string]time.Time{}
		restore := sqlite.SetCopyHook(0, func(int) error { prev, copied = copied, time.Now(); return nil })
		restoreStep := sqlite.SetStepHook(func(step string) error { steps[step] = time.Now(); return nil })
		b.StartTimer()
		start, cpu := time.Now(), cpuSoFar()
		db := sqlite.NewDB(path)
		if err := db.Open(ctx); err != nil {
			b.Fatal(err)
		}
		migrate, migrateCPU := time.Since(start), cpuSoFar()-cpu
		b.StopTimer()
		restore()
		restoreStep()
		b.ReportMetric(copied.Sub(start).Seconds(), "copy-s")
		b.ReportMetric(copied.Sub(prev).Seconds(), "last-step-s")
		b.ReportMetric(steps["installed"].Sub(copied).Seconds(), "install-s")
		if !steps["synced"].IsZero() { // renamed into place: its comparisons, then its sync
			b.ReportMetric(steps["compared"].Sub(copied).Seconds(), "compare-s")
			b.ReportMetric(steps["exclusive"].Sub(steps["compared"]).Seconds(), "lock-s")
			b.ReportMetric(steps["synced"].Sub(steps["exclusive"]).Seconds(), "sync-s")
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(before, "bytes/customer-before")
		b.ReportMetric(bytesPerRecord(b, path, n), "bytes/customer-after")
		b.ReportMetric(migrate.Seconds(), "migrate-s")
		b.ReportMetric(migrateCPU.Seconds(), "migrate-cpu-s")
		// The old checkpoint's close, left in the background (~0.9 s of
		// the kernel's), is not the steady work's: done before it.
		compact.WaitReleased()
		reportSteady(b, path, export, n, migrate, migrateCPU)
		b.StartTimer()
	}
}

// reportSteady measures, on the migrated checkpoint at path, the steady
// run of export and the checkpoint's steady work, and reports the
// migration (migrate, its CPU) against each.
func reportSteady(b *testing.B, path, export string, n int, migrate, migrateCPU time.Duration) {
	runtime.GC()
	cpu := cpuSoFar()
	steady := steadyWork(b, path, n)
	steadyCPU := cpuSoFar() - cpu
	b.ReportMetric(steady.Seconds(), "steady-checkpoint-s")
	b.ReportMetric(migrate.Seconds()/steady.Seconds(), "x-steady-checkpoint")
	b.ReportMetric(migrateCPU.Seconds()/steadyCPU.Seconds(), "x-steady-checkpoint-cpu")
	start := time.Now()
	if _, err := genexport.FloorRead(export); err != nil {
		b.Fatal(err)
	}
	floor := time.Since(start)
	runtime.GC()
	cpu = cpuSoFar()
	run := migSteadyRun(b, path, export)
	runCPU := cpuSoFar() - cpu
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(run.Seconds(), "steady-run-s")
	b.ReportMetric(run.Seconds()/floor.Seconds(), "steady-run-x-floor")
	b.ReportMetric(migrate.Seconds()/run.Seconds(), "x-steady-run")
	b.ReportMetric(migrateCPU.Seconds()/runCPU.Seconds(), "x-steady-run-cpu")
}

// migSteadyRun is a steady `erpsync run` of export on the checkpoint at
// path, as sync.Run does it: the checkpoint opened without its page check,
// which runs beside the refresh (crmsim: nothing changed), the plan
// (nothing to do) and the apply (nothing sent): benchkit.SteadyRun; its
// time, the check's answer waited for.
func migSteadyRun(b *testing.B, path, export string) time.Duration {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(crmsim.NewDefault())
	defer ts.Close()
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	start := time.Now()
	db := sqlite.NewDB(path)
	db.DeferCheck = true
	if err := db.Open(ctx); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	checked := make(chan error, 1)
	go func() { checked <- db.Verify(ctx) }()
	if _, err := benchkit.SteadyRun(ctx, m, export, db, client); err != nil {
		b.Fatal(err)
	}
	if err := <-checked; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

var legacy struct {
	once         gosync.Once
	path, export string
	err          error
}

// legacyMillion writes, once a process, the checkpoint of BenchmarkMigrate1M
// as erpsync wrote it before migration 008, from the benchmarks' day-1
// export (its other result, written first when absent); TestMain removes
// it. With ERPSYNC_LEGACY_1M set, it is that file, kept, and written only
// when absent: runs alternating two builds copy the same file (its writing
// takes longer than the migration).
func legacyMillion(b *testing.B) (string, string) {
	legacy.once.Do(func() {
		legacy.export, _, legacy.err = genexport.Ensure(filepath.Join("..", "..", "..", "testdata", "large"), genexport.LargeOptions)
		if legacy.err != nil {
			return
		}
		if legacy.path = os.Getenv("ERPSYNC_LEGACY_1M"); legacy.path != "" {
			if _, err := os.Stat(legacy.path); err == nil {
				return
			}
		} else if legacyDir, legacy.err = os.MkdirTemp("", "erpsync-state-legacy-"); legacy.err != nil {
			return
		} else {
			legacy.path = filepath.Join(legacyDir, "legacy.db")
		}
		outs, read := exportOutcomes(legacy.export)
		if legacy.err = errors.Join(sqlite.WriteLegacy008(ctx, legacy.path, fixedNow, outs), read()); legacy.err != nil {
			os.Remove(legacy.path) // not kept: ERPSYNC_LEGACY_1M's next run would take it as whole
			return
		}
		bytesPerRecord(b, legacy.path, 1) // its WAL into it: one file to copy
	})
	if legacy.err != nil {
		b.Fatal(legacy.err)
	}
	return legacy.path, legacy.export
}

// exportOutcomes are the outcomes of an import of export, mapped as a run
// maps it (benchkit.Outcomes); every 100th customer's CRM copy has a
// hand-edited city. read is the read's error, once the outcomes are all
// given.
func exportOutcomes(export string) (outs func(yield func(state.Outcome) bool), read func() error) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		return func(func(state.Outcome) bool) {}, func() error { return err }
	}
	ch, done := make(chan state.Outcome, 1024), make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		defer close(ch)
		done <- benchkit.Outcomes(ctx, m, export, func(i int, o state.Outcome) error {
			o.CRMID, o.CRMLastUpdated, o.CRMValues = int64(i), fixedNow, o.Values
			if i%100 == 0 {
				o.CRMValues = maps.Clone(o.Values)
				o.CRMValues["city"] = "Hand edit"
			}
			select {
			case ch <- o:
				return nil
			case <-stop:
				return errors.New("stopped")
			}
		})
	}()
	return func(yield func(state.Outcome) bool) {
			defer close(stop)
			for o := range ch {
				if !yield(o) {
					return
				}
			}
		}, func() error {
			return <-done
		}
}

// copyFile copies the file at from to to, synced: on disk, as a user's
// checkpoint is (left in the page cache, its 1.3 GB were written out by
// the migration's install, when it leaves WAL mode: 2 s of it).
func copyFile(tb testing.TB, from, to string) {
	tb.Helper()
	in, err := os.Open(from)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// steadyWork is what a steady run asks of a checkpoint of n records:
// open it, check its pages (Verify), stream every hash and row sum (the
// plan) and count the customers expected in the CRM (the refresh).
func steadyWork(b *testing.B, path string, n int) time.Duration {
	start := time.Now()
	db := sqlite.NewDB(path)
	db.DeferCheck = true
	if err := db.Open(ctx); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Verify(ctx); err != nil {
		b.Fatal(err)
	}
	got := 0
	if err := db.HashSumsBetween(ctx, "", "", func(_, _ string, _ uint64) error { got++; return nil }); err != nil || got != n {
		b.Fatalf("%d hashes, %v", got, err)
	}
	if k, err := db.CountKnown(ctx, time.Time{}, time.Time{}); err != nil || k != n {
		b.Fatalf("%d known, %v", k, err)
	}
	return time.Since(start)
}

// cpuSoFar is the process's CPU so far (processCPU), as a duration.
func cpuSoFar() time.Duration {
	return time.Duration(processCPU() * float64(time.Second))
}
