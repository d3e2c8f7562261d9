package sqlite_test

import (
	"database/sql"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// BenchmarkCheckpointSize1M reports the bytes on disk a managed customer
// takes in the checkpoint of 1,000,000 records built through the writer
// (millionDB: every record's CRM copy is what was pushed).
func BenchmarkCheckpointSize1M(b *testing.B) {
	db := millionDB(b)
	b.ReportMetric(bytesPerRecord(b, db.Path, 1_000_000), "bytes/customer")
}

// BenchmarkCheckpointBreakdown1M tells what takes the space of the
// checkpoint of 1,000,000 records: its payload column by column, then the
// file compacted, without each index, and without the CRM's copies, each
// measured by VACUUM of a copy (slow: a minute; run it alone).
func BenchmarkCheckpointBreakdown1M(b *testing.B) {
	db := millionDB(b)
	const n = 1_000_000
	b.ReportMetric(bytesPerRecord(b, db.Path, n), "bytes/customer")
	dir := b.TempDir()
	copyPath := filepath.Join(dir, "copy.db")
	raw := rawDB(b, db.Path)
	var ref, hash, vals, crmVals float64
	if err := raw.QueryRowContext(ctx, `SELECT avg(length(reference)), avg(length(hash)), avg(length(vals)), avg(length(crm_vals)) FROM records`).
		Scan(&ref, &hash, &vals, &crmVals); err != nil {
		b.Fatal(err)
	}
	b.Logf("payload a record: reference %.0f, hash %.0f, vals %.0f, crm_vals %.0f bytes", ref, hash, vals, crmVals)
	if _, err := raw.ExecContext(ctx, `VACUUM INTO '`+copyPath+`'`); err != nil {
		b.Fatal(err)
	}
	c := rawDB(b, copyPath)
	steps := []struct{ name, sql string }{
		{"compacted (VACUUM)", ``},
		{"without records_hash", `DROP INDEX records_hash`},
		{"and without records_known", `DROP INDEX records_known`},
		{"and without the CRM's copies", `UPDATE records SET crm_vals = x''`},
		{"and without the pushed values", `UPDATE records SET vals = x''`},
	}
	prev := 0.0
	for _, s := range steps {
		if s.sql != "" {
			if _, err := c.ExecContext(ctx, s.sql); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := c.ExecContext(ctx, `VACUUM`); err != nil {
			b.Fatal(err)
		}
		per := bytesPerRecord(b, copyPath, n)
		b.Logf("%-32s %6.0f bytes/customer (%+.0f)", s.name, per, per-prev)
		prev = per
	}
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
// run does on the migrated file what a steady run asks of its checkpoint
// (steadyWork). Reported: bytes a customer before and after, the
// migration's seconds, and its ratio to the steady work, in wall time
// and in the process's CPU time (issue 25 §4); copy-s is the part until
// the last batch is copied (the new file complete, indexed), install-s
// its copy over the checkpoint (backup and WAL checkpoint), the rest the
// later migrations and the new file's page check. The old checkpoint is
// written once a process, and copied for each iteration.
func BenchmarkMigrate1M(b *testing.B) {
	if testing.Short() {
		b.Skip("a checkpoint of 1,000,000 records: not with -short")
	}
	const n = 1_000_000
	legacy := legacyMillion(b)
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "legacy.db")
		copyFile(b, legacy, path)
		before := bytesPerRecord(b, path, n)
		runtime.GC()
		var copied, installed time.Time // the last batch's end: the new file complete, indexed; its install's
		restore := sqlite.SetCopyHook(0, func(int) error { copied = time.Now(); return nil })
		restoreStep := sqlite.SetStepHook(func(step string) error {
			if step == "installed" {
				installed = time.Now()
			}
			return nil
		})
		b.StartTimer()
		start, cpu := time.Now(), processCPU()
		db := sqlite.NewDB(path)
		if err := db.Open(ctx); err != nil {
			b.Fatal(err)
		}
		migrate, migrateCPU := time.Since(start), processCPU()-cpu
		b.StopTimer()
		restore()
		restoreStep()
		b.ReportMetric(copied.Sub(start).Seconds(), "copy-s")
		b.ReportMetric(installed.Sub(copied).Seconds(), "install-s")
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		after := bytesPerRecord(b, path, n)
		runtime.GC()
		cpu = processCPU()
		steady := steadyWork(b, path, n)
		steadyCPU := processCPU() - cpu
		b.ReportMetric(before, "bytes/customer-before")
		b.ReportMetric(after, "bytes/customer-after")
		b.ReportMetric(migrate.Seconds(), "migrate-s")
		b.ReportMetric(steady.Seconds(), "steady-checkpoint-s")
		b.ReportMetric(migrate.Seconds()/steady.Seconds(), "x-steady-checkpoint")
		b.ReportMetric(migrateCPU.Seconds()/steadyCPU.Seconds(), "x-steady-checkpoint-cpu")
		b.StartTimer()
	}
}

var legacy struct {
	once gosync.Once
	path string
	err  error
}

// legacyMillion writes, once a process, the checkpoint of BenchmarkMigrate1M
// as erpsync wrote it before migration 008; TestMain removes it. With
// ERPSYNC_LEGACY_1M set, it is that file, kept, and written only when
// absent: runs alternating two builds copy the same file (its writing
// takes longer than the migration).
func legacyMillion(b *testing.B) string {
	legacy.once.Do(func() {
		if legacy.path = os.Getenv("ERPSYNC_LEGACY_1M"); legacy.path != "" {
			if _, err := os.Stat(legacy.path); err == nil {
				return
			}
		} else if legacyDir, legacy.err = os.MkdirTemp("", "erpsync-state-legacy-"); legacy.err != nil {
			return
		} else {
			legacy.path = filepath.Join(legacyDir, "legacy.db")
		}
		legacyCheckpoint(b, legacy.path, func(yield func(state.Outcome) bool) {
			for i := range 1_000_000 {
				v := customerValues(i)
				crm := v
				if i%100 == 0 {
					crm = maps.Clone(v)
					crm["city"] = "Hand edit"
				}
				o := state.Outcome{Reference: fmt.Sprintf("C-%07d", i), Hash: hashOf(i), RowSum: uint64(i) * 0x9e3779b97f4a7c15,
					Values: v, CRMID: int64(i + 1), CRMLastUpdated: fixedNow, CRMValues: crm}
				if !yield(o) {
					return
				}
			}
		})
		bytesPerRecord(b, legacy.path, 1) // its WAL into it: one file to copy
	})
	if legacy.err != nil {
		b.Fatal(legacy.err)
	}
	return legacy.path
}

// copyFile copies the file at from to to.
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
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// processCPU is the CPU time the process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
