package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Record is what the checkpoint knows of one managed reference: what
// erpsync last pushed, and what it last saw in the CRM.
type Record struct {
	Reference      string
	Hash           string
	Values         map[string]string // canonical values last pushed
	CRMID          int64
	CRMLastUpdated time.Time
	CRMValues      map[string]string // canonical values last seen in the CRM
	PushedAt       time.Time
}

// Seen is what a refresh found in the CRM for a reference.
type Seen struct {
	Reference      string
	CRMID          int64
	CRMLastUpdated time.Time
	CRMValues      map[string]string
}

// Get returns a managed record, or nil when the reference is not managed.
func (db *DB) Get(ctx context.Context, ref string) (*Record, error) {
	row := db.db.QueryRowContext(ctx, `SELECT reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at
		FROM records WHERE reference = ?`, ref)
	r, err := scanRecord(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", ref, err)
	}
	return r, nil
}

func scanRecord(scan func(...any) error) (*Record, error) {
	var r Record
	var vals, crmVals string
	var lu, pushed int64
	if err := scan(&r.Reference, &r.Hash, &vals, &r.CRMID, &lu, &crmVals, &pushed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(vals), &r.Values); err != nil {
		return nil, fmt.Errorf("values of %s: %w", r.Reference, err)
	}
	if err := json.Unmarshal([]byte(crmVals), &r.CRMValues); err != nil {
		return nil, fmt.Errorf("CRM values of %s: %w", r.Reference, err)
	}
	r.CRMLastUpdated, r.PushedAt = fromUnix(lu), fromUnix(pushed)
	return &r, nil
}

// Count returns the number of managed references.
func (db *DB) Count(ctx context.Context) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count records: %w", err)
	}
	return n, nil
}

// Hashes streams every managed (reference, hash), ordered by reference.
func (db *DB) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	rows, err := db.db.QueryContext(ctx, `SELECT reference, hash FROM records ORDER BY reference`)
	if err != nil {
		return fmt.Errorf("read hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref, hash string
		if err := rows.Scan(&ref, &hash); err != nil {
			return fmt.Errorf("read hashes: %w", err)
		}
		if err := fn(ref, hash); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Records streams every managed record, ordered by reference.
func (db *DB) Records(ctx context.Context, fn func(Record) error) error {
	rows, err := db.db.QueryContext(ctx, `SELECT reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at
		FROM records ORDER BY reference`)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows.Scan)
		if err != nil {
			return fmt.Errorf("read records: %w", err)
		}
		if err := fn(*r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SaveSeen remembers what a refresh saw in the CRM. References erpsync
// does not manage are ignored: they are not ours.
func (db *DB) SaveSeen(ctx context.Context, seen []Seen) error {
	if len(seen) == 0 {
		return nil
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE records SET crm_id = ?, crm_last_updated = ?, crm_vals = ? WHERE reference = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range seen {
			vals, err := json.Marshal(nonNil(s.CRMValues))
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, s.CRMID, unix(s.CRMLastUpdated), string(vals), s.Reference); err != nil {
				return fmt.Errorf("save seen %s: %w", s.Reference, err)
			}
		}
		return nil
	})
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Deleted is the CRM's last copy of a customer erpsync deleted.
type Deleted struct {
	Reference string
	CRMID     int64
	Copy      []byte
	RunID     int64
	DeletedAt time.Time
}

// DeletedCopies returns the audit copies kept for a reference, newest first.
func (db *DB) DeletedCopies(ctx context.Context, ref string) ([]Deleted, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT reference, crm_id, copy, run_id, deleted_at FROM deleted
		WHERE reference = ? ORDER BY id DESC`, ref)
	if err != nil {
		return nil, fmt.Errorf("read deleted copies: %w", err)
	}
	defer rows.Close()
	var out []Deleted
	for rows.Next() {
		var d Deleted
		var copyText string
		var at int64
		if err := rows.Scan(&d.Reference, &d.CRMID, &copyText, &d.RunID, &at); err != nil {
			return nil, err
		}
		d.Copy, d.DeletedAt = []byte(copyText), fromUnix(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
