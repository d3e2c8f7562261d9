package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"time"

	"erpsync/state"
	"erpsync/state/compact"
)

const recordColumns = `reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at`

// scanRecord reads a row of recordColumns.
func (db *DB) scanRecord(ctx context.Context, scan func(...any) error) (*state.Record, error) {
	var r state.Record
	var vals, crmVals []byte
	var hash any
	var lu, pushed int64
	if err := scan(&r.Reference, &hash, &vals, &r.CRMID, &lu, &crmVals, &pushed); err != nil {
		return nil, err
	}
	r.Hash = compact.ReadHash(hash)
	var err error
	if r.Values, r.CRMValues, err = db.decodeBoth(ctx, vals, crmVals); err != nil {
		return nil, fmt.Errorf("values of %s: %w", r.Reference, err)
	}
	r.CRMLastUpdated, r.PushedAt = fromMillis(lu), fromUnix(pushed)
	return &r, nil
}

// Get returns the record of a managed reference, or (nil, nil) when
// erpsync does not manage it.
func (db *DB) Get(ctx context.Context, ref string) (*state.Record, error) {
	r, err := db.scanRecord(ctx, db.get.QueryRowContext(ctx, ref).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.fail("read record "+ref, err)
	}
	return r, nil
}

// Values returns the values last pushed of a managed reference, nil for a
// reference erpsync does not manage: the record's vals alone, not its
// CRM copy (a plan's update describes its changes with them).
func (db *DB) Values(ctx context.Context, ref string) (map[string]string, error) {
	var vals []byte
	err := db.getVals.QueryRowContext(ctx, ref).Scan(&vals)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.fail("read record "+ref, err)
	}
	out, err := db.decodeValues(ctx, vals)
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", ref, err)
	}
	return out, nil
}

// CRMLastUpdated returns the CRM's lastUpdated that erpsync last recorded
// for a managed reference (its own push's answer, or a refresh), without
// reading the record's values; managed is false for a reference erpsync
// does not manage.
func (db *DB) CRMLastUpdated(ctx context.Context, ref string) (at time.Time, managed bool, err error) {
	var s int64
	err = db.getCRM.QueryRowContext(ctx, ref).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, db.fail("read record "+ref, err)
	}
	return fromMillis(s), true, nil
}

// Count returns the number of managed references.
func (db *DB) Count(ctx context.Context) (int, error) {
	var n int
	if err := db.ro.QueryRowContext(ctx, `SELECT count(*) FROM records INDEXED BY records_hash`).Scan(&n); err != nil {
		return 0, db.fail("count records", err)
	}
	return n, nil
}

// Hashes streams every managed (reference, hash), ordered by reference
// (byte order), from the narrow records_hash index: no values are read.
// An error returned by fn stops the stream and is returned as is.
func (db *DB) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	return db.HashesBetween(ctx, "", "", fn)
}

// HashesBetween streams the managed (reference, hash) whose reference is
// at or after from and before to ("": to the end), ordered by reference
// (byte order), as Hashes does: a plan reads again the few stretches of
// the checkpoint it needs instead of all of it.
func (db *DB) HashesBetween(ctx context.Context, from, to string, fn func(ref, hash string) error) error {
	return db.HashSumsBetween(ctx, from, to, func(ref, hash string, _ uint64) error { return fn(ref, hash) })
}

// sqlHashText is a stored hash (compact.Hash) as its text, made by
// SQLite: one string a row for the driver to copy, as before 008.
const sqlHashText = `CASE WHEN typeof(hash) = 'blob' THEN lower(hex(hash)) ELSE hash END`

// sqlStretch reads the hashes and row sums of a stretch of references.
const sqlStretch = `SELECT reference, ` + sqlHashText + `, row_sum FROM records INDEXED BY records_hash
	WHERE reference >= ? AND reference < ? ORDER BY reference`

// HashSumsBetween is HashesBetween, with each record's row sum: the sum
// of the export row it was last pushed from (Outcome.RowSum), 0 when
// unknown.
func (db *DB) HashSumsBetween(ctx context.Context, from, to string, fn func(ref, hash string, sum uint64) error) error {
	var rows *sql.Rows
	var err error
	if to != "" {
		rows, err = db.stretch.QueryContext(ctx, from, to) // a plan asks thousands of stretches
	} else {
		rows, err = db.ro.QueryContext(ctx, `SELECT reference, `+sqlHashText+`, row_sum FROM records INDEXED BY records_hash
			WHERE reference >= ? ORDER BY reference`, from)
	}
	if err != nil {
		return db.fail("read hashes", err)
	}
	defer rows.Close()
	var ref, hash string
	var sum int64
	for rows.Next() {
		if err := rows.Scan(&ref, &hash, &sum); err != nil {
			return db.fail("read hashes", err)
		}
		if err := fn(ref, hash, uint64(sum)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return db.fail("read hashes", err)
	}
	return nil
}

// Records streams every managed record, ordered by reference. An error
// returned by fn stops the stream and is returned as is.
func (db *DB) Records(ctx context.Context, fn func(state.Record) error) error {
	rows, err := db.ro.QueryContext(ctx, `SELECT `+recordColumns+` FROM records ORDER BY reference`)
	if err != nil {
		return db.fail("read records", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := db.scanRecord(ctx, rows.Scan)
		if err != nil {
			return db.fail("read records", err)
		}
		if err := fn(*r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return db.fail("read records", err)
	}
	return nil
}

// SaveSeen remembers what a refresh saw in the CRM, in one transaction.
// Only managed references are updated: the others are not ours and are
// ignored. A copy older than the one recorded (by CRM lastUpdated) is
// ignored too: it says nothing new. The CRM's values are kept as where
// they differ from the values pushed, read in the same transaction.
func (db *DB) SaveSeen(ctx context.Context, seen []state.Seen) error {
	if len(seen) == 0 {
		return nil
	}
	var ft *compact.Tx
	err := db.tx(ctx, func(tx *sql.Tx) error {
		ft = db.fields.Begin(ctx, tx)
		get, err := tx.PrepareContext(ctx, `SELECT vals FROM records WHERE reference = ?`)
		if err != nil {
			return err
		}
		defer get.Close()
		stmt, err := tx.PrepareContext(ctx, `UPDATE records SET crm_id = ?, crm_last_updated = ?, crm_vals = ?, crm_gone = 0
			WHERE reference = ? AND crm_last_updated <= ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range seen {
			if err := db.saveSeen(ctx, ft, get, stmt, s); err != nil {
				return fmt.Errorf("%s: %w", s.Reference, err)
			}
		}
		return nil
	})
	if err != nil {
		return db.fail("save CRM copies", err)
	}
	ft.Commit()
	return nil
}

// saveSeen records one Seen of SaveSeen.
func (db *DB) saveSeen(ctx context.Context, ft *compact.Tx, get, stmt *sql.Stmt, s state.Seen) error {
	var raw []byte
	err := get.QueryRowContext(ctx, s.Reference).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // not managed: not ours
	}
	if err != nil {
		return fmt.Errorf("read values: %w", err)
	}
	vals, err := db.decodeValues(ctx, raw)
	if err != nil {
		return fmt.Errorf("read values: %w", err)
	}
	diff, err := ft.Diff(vals, s.CRMValues)
	if err != nil {
		return fmt.Errorf("CRM values: %w", err)
	}
	lu := millis(s.CRMLastUpdated)
	_, err = stmt.ExecContext(ctx, s.CRMID, lu, diff, s.Reference, lu)
	return err
}

// SaveRowSums records the row sums of records a run found unchanged but
// held without their row's sum (a checkpoint older than row sums, say),
// in one transaction: the next plan need not map those rows. A record
// whose hash is no longer the one given is left alone.
func (db *DB) SaveRowSums(ctx context.Context, sums []state.RowSum) error {
	if len(sums) == 0 {
		return nil
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE records SET row_sum = ? WHERE reference = ? AND hash = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range sums {
			if _, err := stmt.ExecContext(ctx, int64(s.Sum), s.Reference, compact.Hash(s.Hash)); err != nil {
				return fmt.Errorf("row sum of %s: %w", s.Reference, err)
			}
		}
		return nil
	})
	if err != nil {
		return db.fail("save row sums", err)
	}
	return nil
}

// SaveHashes records the new hashes, row sums (and values, when given)
// of records a plan found unchanged by value after a mapping change, in
// one transaction (issue 21 §3).
func (db *DB) SaveHashes(ctx context.Context, rs []state.Rehash) error {
	if len(rs) == 0 {
		return nil
	}
	var ft *compact.Tx
	err := db.tx(ctx, func(tx *sql.Tx) error {
		ft = db.fields.Begin(ctx, tx)
		s, err := prepareRehash(ctx, tx)
		if err != nil {
			return err
		}
		s.db, s.ft = db, ft
		defer s.close()
		for _, r := range rs {
			if err := s.save(ctx, r); err != nil {
				return fmt.Errorf("hash of %s: %w", r.Reference, err)
			}
		}
		return nil
	})
	if err != nil {
		return db.fail("save hashes", err)
	}
	ft.Commit()
	return nil
}

// rehashStmts are SaveHashes' statements, in its transaction.
type rehashStmts struct {
	hashOnly, withVals, getVals *sql.Stmt
	db                          *DB
	ft                          *compact.Tx
}

func prepareRehash(ctx context.Context, tx *sql.Tx) (*rehashStmts, error) {
	s := &rehashStmts{}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.hashOnly, `UPDATE records SET hash = ?, row_sum = ? WHERE reference = ?`},
		{&s.withVals, `UPDATE records SET hash = ?, row_sum = ?, vals = ?, crm_vals = ? WHERE reference = ?`},
		{&s.getVals, `SELECT vals, crm_vals FROM records WHERE reference = ?`},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return nil, err
		}
		*p.st = st
	}
	return s, nil
}

func (s *rehashStmts) close() {
	for _, st := range []*sql.Stmt{s.hashOnly, s.withVals, s.getVals} {
		if st != nil {
			st.Close()
		}
	}
}

// save records one Rehash: with Keep, the record's values of the fields
// no longer mapped are dropped. New values leave the CRM's as they were:
// their difference with the values is stored anew.
func (s *rehashStmts) save(ctx context.Context, r state.Rehash) error {
	if r.Values == nil && r.Keep == nil {
		_, err := s.hashOnly.ExecContext(ctx, compact.Hash(r.Hash), int64(r.Sum), r.Reference)
		return err
	}
	var raw, rawCRM []byte
	err := s.getVals.QueryRowContext(ctx, r.Reference).Scan(&raw, &rawCRM)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // not managed: nothing to change
	}
	if err != nil {
		return fmt.Errorf("read values: %w", err)
	}
	old, crm, err := s.db.decodeBoth(ctx, raw, rawCRM)
	if err != nil {
		return fmt.Errorf("read values: %w", err)
	}
	vals := r.Values
	if vals == nil {
		vals = old
		maps.DeleteFunc(vals, func(k, _ string) bool { return !r.Keep[k] })
	}
	v, err := compact.AppendValues([]byte{}, vals, s.ft.ID)
	if err != nil {
		return err
	}
	d, err := compact.AppendDiff([]byte{}, vals, crm, s.ft.ID)
	if err != nil {
		return err
	}
	_, err = s.withVals.ExecContext(ctx, compact.Hash(r.Hash), int64(r.Sum), v, d, r.Reference)
	return err
}
