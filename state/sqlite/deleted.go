package sqlite

import (
	"context"

	"erpsync/state"
)

// DeletedCopies returns the copies kept for a reference, newest first.
func (db *DB) DeletedCopies(ctx context.Context, ref string) ([]state.Deleted, error) {
	rows, err := db.ro.QueryContext(ctx, `SELECT reference, crm_id, copy, run_id, deleted_at FROM deleted
		WHERE reference = ? ORDER BY id DESC`, ref)
	if err != nil {
		return nil, db.fail("read deleted copies", err)
	}
	defer rows.Close()
	var out []state.Deleted
	for rows.Next() {
		var d state.Deleted
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
