package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"erpsync/state"
)

// knownIn is every known customer, as (reference, crm_id, crm_last_updated,
// managed). An unmanaged customer whose reference erpsync has since pushed
// counts once, as managed.
const knownIn = `SELECT reference, crm_id, crm_last_updated, 1 AS managed FROM records
	WHERE crm_gone = 0 AND crm_last_updated >= ?1 AND crm_last_updated < ?2
UNION ALL
SELECT u.reference, u.crm_id, u.crm_last_updated, 0 FROM unmanaged u
	WHERE u.crm_last_updated >= ?1 AND u.crm_last_updated < ?2
	AND NOT EXISTS (SELECT 1 FROM records r WHERE r.reference = u.reference AND u.reference <> '')`

// bounds are a window's stored bounds: [from, until), until zero meaning
// no end.
func bounds(from, until time.Time) (int64, int64) {
	hi := int64(math.MaxInt64)
	if !until.IsZero() {
		hi = millis(until)
	}
	return millis(from), hi
}

// CountKnown counts the known customers whose lastUpdated falls in
// [from, until); a zero until has no end.
func (db *DB) CountKnown(ctx context.Context, from, until time.Time) (int, error) {
	lo, hi := bounds(from, until)
	var n int
	if err := db.ro.QueryRowContext(ctx, `SELECT count(*) FROM (`+knownIn+`)`, lo, hi).Scan(&n); err != nil {
		return 0, db.fail("count known customers", err)
	}
	return n, nil
}

// KnownIn returns the known customers whose lastUpdated falls in
// [from, until), by lastUpdated.
func (db *DB) KnownIn(ctx context.Context, from, until time.Time) ([]state.Known, error) {
	lo, hi := bounds(from, until)
	rows, err := db.ro.QueryContext(ctx, knownIn+` ORDER BY 3, 1`, lo, hi)
	if err != nil {
		return nil, db.fail("read known customers", err)
	}
	defer rows.Close()
	var out []state.Known
	for rows.Next() {
		k, err := scanKnown(rows.Scan)
		if err != nil {
			return nil, db.fail("read known customers", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("read known customers", err)
	}
	return out, nil
}

// MedianKnown returns the lastUpdated that splits the known customers of
// [from, until) in halves (the zero time when there are none).
func (db *DB) MedianKnown(ctx context.Context, from, until time.Time) (time.Time, error) {
	n, err := db.CountKnown(ctx, from, until)
	if err != nil || n == 0 {
		return time.Time{}, err
	}
	return db.nthKnown(ctx, from, until, n/2)
}

// KnownBounds returns the lastUpdated seconds that split the known
// customers of [from, until) into parts of about equal numbers: at most
// parts-1 of them, ascending, distinct, each after the first known
// second (fewer when many customers share a second, none when there are
// none).
func (db *DB) KnownBounds(ctx context.Context, from, until time.Time, parts int) ([]time.Time, error) {
	n, err := db.CountKnown(ctx, from, until)
	if err != nil || n == 0 || parts < 2 {
		return nil, err
	}
	floor, err := db.nthKnown(ctx, from, until, 0)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for i := 1; i < parts; i++ {
		t, err := db.nthKnown(ctx, from, until, i*n/parts)
		if err != nil {
			return nil, err
		}
		if t.After(floor) {
			out = append(out, t)
			floor = t
		}
	}
	return out, nil
}

// nthKnown is the second of the lastUpdated of the known customer of
// [from, until) at offset i, by lastUpdated: windows are cut on whole
// seconds, as the API filters.
func (db *DB) nthKnown(ctx context.Context, from, until time.Time, i int) (time.Time, error) {
	lo, hi := bounds(from, until)
	var s int64
	err := db.ro.QueryRowContext(ctx, `SELECT crm_last_updated FROM (`+knownIn+`) ORDER BY 1 LIMIT 1 OFFSET ?3`,
		lo, hi, i).Scan(&s)
	if err != nil {
		return time.Time{}, db.fail("read known customers by lastUpdated", err)
	}
	return fromMillis(s).Truncate(time.Second), nil
}

// knownByReference is KnownByReference's statement, prepared once: a
// refresh asks it of every customer it reads (45,000 after an import of
// a million), and preparing it each time cost more than the answer.
// Managed first; of unmanaged customers sharing a reference (made by
// hand twice), the lowest crm id.
const knownByReference = `SELECT reference, crm_id, crm_last_updated, 1 FROM records WHERE reference = ?1 AND crm_gone = 0
	UNION ALL SELECT reference, crm_id, crm_last_updated, 0 FROM unmanaged WHERE reference = ?1 AND reference <> ''
	ORDER BY 4 DESC, 2 LIMIT 1`

// scanKnown reads a row of (reference, crm_id, crm_last_updated, managed).
func scanKnown(scan func(...any) error) (state.Known, error) {
	var k state.Known
	var lu int64
	if err := scan(&k.Reference, &k.CRMID, &lu, &k.Managed); err != nil {
		return state.Known{}, err
	}
	k.LastUpdated = fromMillis(lu)
	return k, nil
}

// KnownByReference returns what the checkpoint expects of a reference in
// the CRM; ok is false for one it does not know (or a managed one found
// deleted by hand).
func (db *DB) KnownByReference(ctx context.Context, ref string) (k state.Known, ok bool, err error) {
	var lu int64
	err = db.known.QueryRowContext(ctx, ref).Scan(&k.Reference, &k.CRMID, &lu, &k.Managed)
	if errors.Is(err, sql.ErrNoRows) {
		return state.Known{}, false, nil
	}
	if err != nil {
		return state.Known{}, false, db.fail("read known customer "+ref, err)
	}
	k.LastUpdated = fromMillis(lu)
	return k, true, nil
}

// knownByReferences is KnownByReferences' statement: the references come
// as one JSON array, so that the statement is prepared once. The + keeps
// SQLite from reading records by crm_gone (records_known: every record)
// instead of by reference: 18 s instead of 0.05 s for the first run
// after a 1M import (TestKnownByReferences_ByReference).
const knownByReferences = `SELECT reference, crm_id, crm_last_updated, 1 FROM records
		WHERE reference IN (SELECT value FROM json_each(?1)) AND +crm_gone = 0
	UNION ALL SELECT reference, crm_id, crm_last_updated, 0 FROM unmanaged
		WHERE reference IN (SELECT value FROM json_each(?1)) AND reference <> ''`

// KnownByReferences is KnownByReference for many references at once, in
// one statement: a refresh asks it of each page it reads. A reference
// the checkpoint does not know is absent from the answer.
func (db *DB) KnownByReferences(ctx context.Context, refs []string) (map[string]state.Known, error) {
	out := make(map[string]state.Known, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	list, err := json.Marshal(refs)
	if err != nil {
		return nil, err
	}
	rows, err := db.knownMany.QueryContext(ctx, string(list))
	if err != nil {
		return nil, db.fail("read known customers", err)
	}
	defer rows.Close()
	for rows.Next() {
		k, err := scanKnown(rows.Scan)
		if err != nil {
			return nil, db.fail("read known customers", err)
		}
		if prev, ok := out[k.Reference]; ok && (prev.Managed || prev.CRMID < k.CRMID) && !k.Managed {
			continue // managed wins, then the lowest crm id, as in KnownByReference
		}
		out[k.Reference] = k
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("read known customers", err)
	}
	return out, nil
}

// SaveCounted records, in one transaction, the unmanaged customers seen
// or gone and the managed ones deleted by hand. A gone record that was
// written since it was found (its lastUpdated changed: a push re-created
// it) is left as it is.
func (db *DB) SaveCounted(ctx context.Context, c state.Counted) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		// Forget first: a customer that lost or gained its reference by
		// hand is forgotten under its old key and seen under its new one,
		// with the same crm id; it stays known.
		for _, id := range c.Forget {
			if _, err := tx.ExecContext(ctx, `DELETE FROM unmanaged WHERE crm_id = ?`, id); err != nil {
				return fmt.Errorf("unmanaged %d: %w", id, err)
			}
		}
		for _, u := range c.Unmanaged {
			if _, err := tx.ExecContext(ctx, `INSERT INTO unmanaged (crm_id, reference, crm_last_updated) VALUES (?, ?, ?)
				ON CONFLICT (crm_id) DO UPDATE SET reference = excluded.reference, crm_last_updated = excluded.crm_last_updated`,
				u.CRMID, u.Reference, millis(u.LastUpdated)); err != nil {
				return fmt.Errorf("unmanaged %d: %w", u.CRMID, err)
			}
		}
		for _, g := range c.Gone {
			if _, err := tx.ExecContext(ctx, `UPDATE records SET crm_gone = ? WHERE reference = ? AND crm_last_updated = ?`,
				max(unix(c.At), 1), g.Reference, millis(g.LastUpdated)); err != nil {
				return fmt.Errorf("gone %s: %w", g.Reference, err)
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM unmanaged WHERE reference <> ''
			AND EXISTS (SELECT 1 FROM records r WHERE r.reference = unmanaged.reference)`)
		return err
	})
	if err != nil {
		return db.fail("save counts", err)
	}
	return nil
}

// DeletedByHand returns the managed records found deleted by hand in the CRM and
// not pushed again since, by reference.
func (db *DB) DeletedByHand(ctx context.Context) ([]state.Known, error) {
	// A range of records_known (crm_gone > 0, never negative), sorted
	// after: not a walk of a million records in reference order.
	rows, err := db.ro.QueryContext(ctx, `SELECT reference, crm_id, crm_last_updated FROM records INDEXED BY records_known
		WHERE crm_gone > 0 ORDER BY reference`)
	if err != nil {
		return nil, db.fail("read records deleted by hand", err)
	}
	defer rows.Close()
	var out []state.Known
	for rows.Next() {
		k := state.Known{Managed: true}
		var lu int64
		if err := rows.Scan(&k.Reference, &k.CRMID, &lu); err != nil {
			return nil, db.fail("read records deleted by hand", err)
		}
		k.LastUpdated = fromMillis(lu)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("read records deleted by hand", err)
	}
	return out, nil
}

// UnmanagedCount is the number of customers in the CRM that erpsync has
// seen but does not manage.
func (db *DB) UnmanagedCount(ctx context.Context) (int, error) {
	var n int
	err := db.ro.QueryRowContext(ctx, `SELECT count(*) FROM unmanaged u WHERE NOT EXISTS
		(SELECT 1 FROM records r WHERE r.reference = u.reference AND u.reference <> '')`).Scan(&n)
	if err != nil {
		return 0, db.fail("count unmanaged customers", err)
	}
	return n, nil
}
