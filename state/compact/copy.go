package compact

import (
	"context"
	"database/sql"
	"fmt"
)

// CopyBatch is a batch of migration 008, in its transaction: it copies
// up to batch records of the records table (values as JSON) after the
// last one records_v8 holds, in reference order, into records_v8 (values
// in this encoding). It returns how many it copied: fewer than batch, it
// copied the last.
func CopyBatch(ctx context.Context, tx *sql.Tx, t *Tx, batch int) (int, error) {
	var last string
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(reference), '') FROM records_v8`).Scan(&last); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, crm_gone, row_sum
		FROM records WHERE reference > ? ORDER BY reference LIMIT ?`, last, batch)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO records_v8 (reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, crm_gone, row_sum)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	n := 0
	var ref, hash string
	var vals, crm []byte
	v, d := make([]byte, 0, 512), make([]byte, 0, 64) // never nil: nil is NULL
	var id, lu, pushed, gone, sum int64
	for rows.Next() {
		if err := rows.Scan(&ref, &hash, &vals, &id, &lu, &crm, &pushed, &gone, &sum); err != nil {
			return n, err
		}
		if v, err = FromJSON(v[:0], vals, t.ID); err != nil {
			return n, fmt.Errorf("values of %s: %w", ref, err)
		}
		if d, err = DiffJSON(d[:0], vals, crm, t.ID); err != nil {
			return n, fmt.Errorf("CRM values of %s: %w", ref, err)
		}
		if _, err := ins.ExecContext(ctx, ref, Hash(hash), v, id, lu, d, pushed, gone, sum); err != nil {
			return n, fmt.Errorf("copy %s: %w", ref, err)
		}
		n++
	}
	return n, rows.Err()
}
