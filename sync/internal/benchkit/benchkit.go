// Package benchkit is what the 1,000,000-customer benchmarks share, so
// that each is written once: the day-1 customers as the outcomes of a
// run that pushed them (Outcomes), the day-1 checkpoint built from them
// (Checkpoint), and a steady run (SteadyRun: the refresh, the plan, the
// apply of nothing). sync's benchmarks use it, migration 008's
// (BenchmarkMigrate1M) among them; only benchmarks import it.
package benchkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
	"erpsync/sync/refresh"
)

// Outcomes maps export as a run maps it (m) and calls fn with each
// customer's outcome of a push that succeeded, in the export's order (i
// from 1): what was pushed (reference, hash, row sum, values) and the
// CRM's id, the export's line; the CRM's copy is left to fn.
func Outcomes(ctx context.Context, m *mapping.Mapping, export string, fn func(i int, o state.Outcome) error) error {
	i := 0
	_, err := m.Read(ctx, export, func(r mapping.Row) error {
		if r.Customer == nil {
			return nil
		}
		i++
		c := r.Customer
		return fn(i, state.Outcome{Op: state.OpUpsert, Reference: c.Reference, Hash: c.Hash, RowSum: c.RowSum,
			Values: c.Fields(), CRMID: int64(c.Line)})
	})
	return err
}

// Checkpoint opens the checkpoint at path holding day1's customers as
// pushed (Outcomes), when it is current for day1 (built earlier: the
// hashes and row sums of the export's first rows are the ones it holds),
// else writes it again. It is closed when tb ends.
func Checkpoint(tb testing.TB, m *mapping.Mapping, path, day1 string) *sqlite.DB {
	tb.Helper()
	ctx := context.Background()
	if db, ok := current(tb, m, path, day1); ok {
		return db
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	w := db.NewWriter(10_000, time.Second)
	err := Outcomes(ctx, m, day1, func(_ int, o state.Outcome) error { return w.Put(ctx, o) })
	if err = errors.Join(err, w.Close()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// current opens the checkpoint at path, built earlier, when the hashes
// and row sums of day1's first 2,000 rows are the ones it holds (a change
// of the mapping or of its code makes it stale).
func current(tb testing.TB, m *mapping.Mapping, path, day1 string) (*sqlite.DB, bool) {
	ctx := context.Background()
	if _, err := os.Stat(path); err != nil {
		return nil, false
	}
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	checked, errEnough, errStale := 0, errors.New("enough"), errors.New("stale")
	_, err := m.Read(ctx, day1, func(r mapping.Row) error {
		if r.Customer != nil {
			rec, err := db.Get(ctx, r.Customer.Reference)
			if err != nil || rec == nil || rec.Hash != r.Customer.Hash || storedSum(tb, db, rec.Reference) != r.Customer.RowSum {
				return errStale // older, or from before row sums
			}
		}
		if checked++; checked == 2000 {
			return errEnough
		}
		return nil
	})
	switch {
	case errors.Is(err, errStale):
		db.Close()
		return nil, false
	case err != nil && !errors.Is(err, errEnough):
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, true
}

// storedSum is the row sum the checkpoint keeps for ref.
func storedSum(tb testing.TB, db *sqlite.DB, ref string) uint64 {
	var sum uint64
	if err := db.HashSumsBetween(context.Background(), ref, ref+"\x00", func(_, _ string, s uint64) error { sum = s; return nil }); err != nil {
		tb.Fatal(err)
	}
	return sum
}

// SteadyRun is what a steady `erpsync run` of export does once its
// checkpoint (db) is open, in sync.Run's order: the refresh against
// client (lastUpdated_gte now: nothing changed; the drift found), the
// plan of export mapped by m (mirror deletes, max_delete 5%, drift
// erp_wins) and its apply, nothing written (apply.Discard). An action
// planned is an error: the checkpoint is not the export's.
func SteadyRun(ctx context.Context, m *mapping.Mapping, export string, db *sqlite.DB, client *crm.Client) (*apply.Summary, error) {
	pulled, err := refresh.Pull(ctx, client, refresh.PullOptions{Since: time.Now(), Lookback: 2 * time.Minute})
	if err != nil {
		return nil, err
	}
	drift, _, err := refresh.FindDrift(ctx, pulled, db, mapping.CountryCode)
	if err != nil {
		return nil, err
	}
	p, err := plan.Build(ctx, sync.PlanRows(ctx, m, export), db, plan.Options{
		Deletes: policy.DeletesMirror, MaxDelete: guard.On(plan.Limit{Percent: 5, IsPercent: true}), Drift: drift, DriftPolicy: policy.DriftERPWins,
	})
	if err != nil {
		return nil, err
	}
	sum, err := apply.Run(ctx, p, client, apply.Discard{}, apply.Options{})
	if err != nil {
		return nil, err
	}
	if n := len(p.Actions()); n != 0 {
		return sum, fmt.Errorf("the steady run planned %d actions: the checkpoint is not the export's", n)
	}
	return sum, nil
}
