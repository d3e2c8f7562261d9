package state

import (
	"context"
	"time"
)

// Deleted is the CRM's last copy of a customer that erpsync deleted, kept
// so that a person can restore it.
type Deleted struct {
	Reference string
	CRMID     int64
	Copy      []byte // the CRM's JSON, as it answered
	RunID     int64
	DeletedAt time.Time
}

// DeletedCopies returns the copies kept for a reference, newest first.
func (db *DB) DeletedCopies(ctx context.Context, ref string) ([]Deleted, error) {
	rows, err := db.ro.QueryContext(ctx, `SELECT reference, crm_id, copy, run_id, deleted_at FROM deleted
		WHERE reference = ? ORDER BY id DESC`, ref)
	if err != nil {
		return nil, db.fail("read deleted copies", err)
	}
	defer rows.Close()
	var out []Deleted
	for rows.Next() {
		var d Deleted
		var at int64
		if err := rows.Scan(&d.Reference, &d.CRMID, &d.Copy, &d.RunID, &at); err != nil {
			return nil, db.fail("read deleted copies", err)
		}
		d.DeletedAt = fromUnix(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("read deleted copies", err)
	}
	return out, nil
}
