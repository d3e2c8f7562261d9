package compact

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
	// The CRM's copy is read only where it is not the pushed values' bytes
	// (NULL: the same; most records).
	rows, err := tx.QueryContext(ctx, `SELECT reference, hash, vals, crm_id, crm_last_updated,
		CASE WHEN crm_vals = vals THEN NULL ELSE crm_vals END, pushed_at, crm_gone, row_sum
		FROM records WHERE reference > ? ORDER BY reference LIMIT ?`, last, batch)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	ins := &inserter{ctx: ctx, tx: tx, arena: make([]byte, 0, 64<<10)} // never nil: nil is NULL
	defer ins.close()
	var ref, hash string
	var vals, crm sql.RawBytes // the driver's copies, not copied again
	var id, lu, pushed, gone, sum int64
	for rows.Next() {
		if err := rows.Scan(&ref, &hash, &vals, &id, &lu, &crm, &pushed, &gone, &sum); err != nil {
			return ins.n, err
		}
		start := len(ins.arena)
		if ins.arena, err = fromJSON(ins.arena, vals, t.idOf); err != nil {
			return ins.n, fmt.Errorf("values of %s: %w", ref, err)
		}
		mid := len(ins.arena)
		if ins.arena, err = diffJSON(ins.arena, vals, crm, t.ID); err != nil {
			return ins.n, fmt.Errorf("CRM values of %s: %w", ref, err)
		}
		ins.args = append(ins.args, ref, Hash(hash), span{start, mid}, id, lu, span{mid, len(ins.arena)}, pushed, gone, sum)
		if err := ins.flush(false); err != nil {
			return ins.n, err
		}
	}
	if err := rows.Err(); err != nil {
		return ins.n, err
	}
	return ins.n, ins.flush(true)
}

// rowsAtOnce is how many records one INSERT statement of a batch holds.
const rowsAtOnce = 64

// span is where an encoded value lies in the inserter's arena.
type span struct{ from, to int }

// inserter inserts the records of a batch rowsAtOnce at a time: one
// statement (and one trip through database/sql) for many.
type inserter struct {
	ctx   context.Context
	tx    *sql.Tx
	full  *sql.Stmt // rowsAtOnce records
	args  []any     // 9 a record; the encoded values as spans of arena
	arena []byte
	n     int
}

const insertRecords = `INSERT INTO records_v8 (reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, crm_gone, row_sum) VALUES `

// flush inserts the records queued: when rowsAtOnce are, or all (last).
func (ins *inserter) flush(last bool) error {
	k := len(ins.args) / 9
	if k == 0 || k < rowsAtOnce && !last {
		return nil
	}
	for i, a := range ins.args {
		if s, ok := a.(span); ok {
			ins.args[i] = ins.arena[s.from:s.to:s.to]
		}
	}
	query := insertRecords + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", k), ", ")
	var err error
	if k == rowsAtOnce {
		if ins.full == nil {
			if ins.full, err = ins.tx.PrepareContext(ins.ctx, query); err != nil {
				return err
			}
		}
		_, err = ins.full.ExecContext(ins.ctx, ins.args...)
	} else {
		_, err = ins.tx.ExecContext(ins.ctx, query, ins.args...)
	}
	if err != nil {
		return fmt.Errorf("copy records: %w", err)
	}
	ins.n += k
	ins.args, ins.arena = ins.args[:0], ins.arena[:0]
	return nil
}

func (ins *inserter) close() {
	if ins.full != nil {
		ins.full.Close()
	}
}
