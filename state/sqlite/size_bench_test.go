package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
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
