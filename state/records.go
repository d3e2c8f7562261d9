package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// Record is what the checkpoint knows of one managed reference: what
// erpsync last pushed, and what it last saw in the CRM. A reference is
// managed once erpsync has pushed it successfully, until it deletes it.
type Record struct {
	Reference      string
	Hash           string            // content hash of what was pushed (mapping's)
	Values         map[string]string // canonical values last pushed
	CRMID          int64
	CRMLastUpdated time.Time         // the CRM's lastUpdated, to the millisecond
	CRMValues      map[string]string // canonical values last seen in the CRM
	PushedAt       time.Time         // when the last push was recorded
}

// Seen is what a refresh found in the CRM for a reference.
type Seen struct {
	Reference      string
	CRMID          int64
	CRMLastUpdated time.Time
	CRMValues      map[string]string
}

const recordColumns = `reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at`

// scanRecord reads a row of recordColumns.
func scanRecord(scan func(...any) error) (*Record, error) {
	var r Record
	var vals, crmVals []byte
	var lu, pushed int64
	if err := scan(&r.Reference, &r.Hash, &vals, &r.CRMID, &lu, &crmVals, &pushed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(vals, &r.Values); err != nil {
		return nil, fmt.Errorf("values of %s: %w", r.Reference, err)
	}
	if err := json.Unmarshal(crmVals, &r.CRMValues); err != nil {
		return nil, fmt.Errorf("CRM values of %s: %w", r.Reference, err)
	}
	r.CRMLastUpdated, r.PushedAt = fromMillis(lu), fromUnix(pushed)
	return &r, nil
}

// Get returns the record of a managed reference, or (nil, nil) when
// erpsync does not manage it.
func (db *DB) Get(ctx context.Context, ref string) (*Record, error) {
	r, err := scanRecord(db.get.QueryRowContext(ctx, ref).Scan)
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
	var out map[string]string
	if err := json.Unmarshal(vals, &out); err != nil {
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

// sqlStretch reads the hashes and row sums of a stretch of references.
const sqlStretch = `SELECT reference, hash, row_sum FROM records INDEXED BY records_hash
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
		rows, err = db.ro.QueryContext(ctx, `SELECT reference, hash, row_sum FROM records INDEXED BY records_hash
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
func (db *DB) Records(ctx context.Context, fn func(Record) error) error {
	rows, err := db.ro.QueryContext(ctx, `SELECT `+recordColumns+` FROM records ORDER BY reference`)
	if err != nil {
		return db.fail("read records", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows.Scan)
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
// ignored too: it says nothing new.
func (db *DB) SaveSeen(ctx context.Context, seen []Seen) error {
	if len(seen) == 0 {
		return nil
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE records SET crm_id = ?, crm_last_updated = ?, crm_vals = ?, crm_gone = 0
			WHERE reference = ? AND crm_last_updated <= ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range seen {
			vals, err := encodeValues(s.CRMValues)
			if err != nil {
				return fmt.Errorf("CRM values of %s: %w", s.Reference, err)
			}
			lu := millis(s.CRMLastUpdated)
			if _, err := stmt.ExecContext(ctx, s.CRMID, lu, string(vals), s.Reference, lu); err != nil {
				return fmt.Errorf("%s: %w", s.Reference, err)
			}
		}
		return nil
	})
	if err != nil {
		return db.fail("save CRM copies", err)
	}
	return nil
}

// encodeValues is the stored form of values: compact JSON, keys sorted,
// {} for none.
func encodeValues(m map[string]string) ([]byte, error) {
	b, _ := appendValues(make([]byte, 0, 32*len(m)), nil, m)
	return b, nil
}

// appendValues appends the stored form of m to b; keys is scratch room
// for the sorted keys, returned for the next call.
func appendValues(b []byte, keys []string, m map[string]string) ([]byte, []string) {
	if len(m) == 0 {
		return append(b, "{}"...), keys
	}
	// The bytes of json.Marshal (keys sorted, its escaping), without its
	// reflection: the writer encodes two maps an outcome, a third of an
	// import's checkpoint time (issue 14 §3).
	keys = keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}'), keys
}

// appendJSONString appends s as json.Marshal encodes it: plain printable
// ASCII as is, anything else through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			// UTF-8 goes as it is, as json.Marshal writes it (a fifth of
			// the values of an export with accents): but for the line
			// and paragraph separators, and bytes that are not UTF-8.
			if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError && r != '\u2028' && r != '\u2029' {
				i += size - 1
				continue
			}
		}
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// RowSum is the sum of the export row a record's hash was made from.
type RowSum struct {
	Reference, Hash string
	Sum             uint64
}

// SaveRowSums records the row sums of records a run found unchanged but
// held without their row's sum (a checkpoint older than row sums, say),
// in one transaction: the next plan need not map those rows. A record
// whose hash is no longer the one given is left alone.
func (db *DB) SaveRowSums(ctx context.Context, sums []RowSum) error {
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
			if _, err := stmt.ExecContext(ctx, int64(s.Sum), s.Reference, s.Hash); err != nil {
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

// Rehash is a record whose values are the ones last pushed, read under a
// new mapping: its hash and row sum become the new mapping's, so that
// the next plan finds it unchanged without comparing values again.
type Rehash struct {
	Reference, Hash string
	Sum             uint64
	Values          map[string]string // the values to keep when the mapped fields changed; nil: kept as they are
	// Keep, when Values is nil, names the fields still mapped: the
	// record's values of the others are dropped (a field no longer
	// mapped); nil: kept as they are. One set is shared by the records
	// of a plan, not a map of values each.
	Keep map[string]bool
}

// SaveHashes records the new hashes, row sums (and values, when given)
// of records a plan found unchanged by value after a mapping change, in
// one transaction (issue 21 §3).
func (db *DB) SaveHashes(ctx context.Context, rs []Rehash) error {
	if len(rs) == 0 {
		return nil
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		s, err := prepareRehash(ctx, tx)
		if err != nil {
			return err
		}
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
	return nil
}

// rehashStmts are SaveHashes' statements, in its transaction.
type rehashStmts struct{ hashOnly, withVals, getVals *sql.Stmt }

func prepareRehash(ctx context.Context, tx *sql.Tx) (*rehashStmts, error) {
	s := &rehashStmts{}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.hashOnly, `UPDATE records SET hash = ?, row_sum = ? WHERE reference = ?`},
		{&s.withVals, `UPDATE records SET hash = ?, row_sum = ?, vals = ? WHERE reference = ?`},
		{&s.getVals, `SELECT vals FROM records WHERE reference = ?`},
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
// no longer mapped are dropped.
func (s *rehashStmts) save(ctx context.Context, r Rehash) error {
	vals := r.Values
	if vals == nil && r.Keep != nil {
		var raw []byte
		err := s.getVals.QueryRowContext(ctx, r.Reference).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // not managed: nothing to change
		}
		if err != nil {
			return fmt.Errorf("read values: %w", err)
		}
		if err := json.Unmarshal(raw, &vals); err != nil {
			return fmt.Errorf("read values: %w", err)
		}
		maps.DeleteFunc(vals, func(k, _ string) bool { return !r.Keep[k] })
	}
	var err error
	if vals == nil {
		_, err = s.hashOnly.ExecContext(ctx, r.Hash, int64(r.Sum), r.Reference)
	} else {
		b, _ := encodeValues(vals)
		_, err = s.withVals.ExecContext(ctx, r.Hash, int64(r.Sum), string(b), r.Reference)
	}
	return err
}
