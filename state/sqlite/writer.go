package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"erpsync/state"
	"erpsync/state/compact"
	"erpsync/state/prepared"
)

// NewWriter returns a writer that commits every batch outcomes or every
// interval, whichever comes first (defaults: 500 and 250 ms). Its
// goroutine is started by Start or Run, or else by the first Put or Flush.
func (db *DB) NewWriter(batch int, every time.Duration) *state.Writer {
	stmts := prepared.New(db.rw, sqlSaveRecord, sqlClearFailure, sqlSaveFailure, sqlKeepCopy, sqlDeleteRecord,
		insertHistorySQL(historySizes[0]), insertHistorySQL(historySizes[1]), insertHistorySQL(historySizes[2]))
	write := func(ctx context.Context, b []state.Outcome) error { return db.writeOutcomes(ctx, stmts, b) }
	return state.NewBatchWriter(write, batch, every).EndWith(stmts.Close)
}

// Statements of the writer, prepared once per writer (prepared.Set).
const (
	sqlSaveRecord = `INSERT INTO records (reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, row_sum)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (reference) DO UPDATE SET hash = excluded.hash, vals = excluded.vals, crm_id = excluded.crm_id,
			crm_last_updated = excluded.crm_last_updated, crm_vals = excluded.crm_vals, pushed_at = excluded.pushed_at,
			crm_gone = 0, row_sum = excluded.row_sum`
	sqlClearFailure = `DELETE FROM failures WHERE reference = ?`
	sqlSaveFailure  = `INSERT INTO failures (reference, run_id, op, line, status, code, message, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (reference) DO UPDATE SET run_id = excluded.run_id, op = excluded.op, line = excluded.line,
			status = excluded.status, code = excluded.code, message = excluded.message, at = excluded.at`
	sqlKeepCopy = `INSERT INTO deleted (reference, crm_id, copy, run_id, deleted_at)
		VALUES (?1, coalesce(nullif(?2, 0), (SELECT crm_id FROM records WHERE reference = ?1), 0), ?3, ?4, ?5)`
	sqlDeleteRecord = `DELETE FROM records WHERE reference = ?`
)

// writeOutcomes records a batch, in order, in one transaction.
func (db *DB) writeOutcomes(ctx context.Context, stmts *prepared.Set, batch []state.Outcome) error {
	var ft *compact.Tx
	stmts.Ready(ctx) // outside the transaction, which holds the pool's one connection
	err := db.tx(ctx, func(tx *sql.Tx) error {
		ft = db.fields.Begin(ctx, tx)
		now := db.Now().Unix()
		bw := &batchWriter{ctx: ctx, tx: stmts.Begin(tx), now: now, nowArg: now, fields: ft}
		var err error
		if bw.failing, err = failingAmong(ctx, tx, batch); err != nil {
			return fmt.Errorf("read failures: %w", err)
		}
		for _, o := range batch {
			if err := bw.write(o); err != nil {
				return fmt.Errorf("%s of %s: %w", o.Op, o.Reference, err)
			}
		}
		return insertHistory(ctx, bw.tx, state.BatchHistory(batch))
	})
	if err != nil {
		return db.fail("write checkpoint", err)
	}
	ft.Commit()
	return nil
}

// batchWriter writes the outcomes of one batch transaction.
type batchWriter struct {
	ctx    context.Context
	tx     *prepared.Tx // the writer's statements, in the transaction
	now    int64
	nowArg any // now, boxed once a batch
	// failing are the references of the batch with a stored failure: a
	// success clears only those (most outcomes have none to clear).
	failing map[string]bool
	fields  *compact.Tx // encodes values, adding new field names
	hash    []byte      // scratch: a record's hash as stored
}

func (bw *batchWriter) exec(query string, args ...any) error {
	_, err := bw.tx.ExecContext(bw.ctx, query, args...)
	return err
}

// write records one outcome.
func (bw *batchWriter) write(o state.Outcome) error {
	var err error
	switch {
	case o.HistoryOnly():
		return nil
	case o.Failure != nil:
		f := *o.Failure
		f.RunID = cmp.Or(f.RunID, o.RunID)
		f.Op, f.Line = cmp.Or(f.Op, o.Op), cmp.Or(f.Line, o.Line)
		at := cmp.Or(unix(f.At), bw.now)
		err = bw.exec(sqlSaveFailure, o.Reference, f.RunID, f.Op, f.Line, f.Status, f.Code, f.Message, at)
		bw.failing[o.Reference] = true
		return err
	case o.Op == state.OpDelete:
		if o.DeletedCopy != nil {
			err = bw.exec(sqlKeepCopy, o.Reference, o.CRMID, string(o.DeletedCopy), o.RunID, bw.now)
		}
		if err == nil {
			err = bw.exec(sqlDeleteRecord, o.Reference)
		}
	default:
		err = bw.saveRecord(o)
	}
	if err == nil && bw.failing[o.Reference] {
		err = bw.exec(sqlClearFailure, o.Reference)
		delete(bw.failing, o.Reference)
	}
	return err
}

// saveRecord writes the record of a successful upsert: its values and
// the CRM's beside them encoded in one pass (compact.Tx.Fields, or
// Record for an outcome given as maps), its
// hash into the writer's scratch.
func (bw *batchWriter) saveRecord(o state.Outcome) error {
	var vals, crmVals []byte
	var err error
	if len(o.Pushed.Names) > 0 {
		vals, crmVals, err = bw.fields.Fields(&o.Pushed)
	} else {
		vals, crmVals, err = bw.fields.Record(o.Values, o.CRMValues)
	}
	if err != nil {
		return err
	}
	var hash any // boxed once: the stored bytes, else the text
	if h, ok := compact.AppendHash(bw.hash[:0], o.Hash); ok {
		bw.hash, hash = h, h
	} else {
		hash = o.Hash
	}
	return bw.exec(sqlSaveRecord, o.Reference, hash, vals, o.CRMID, millis(o.CRMLastUpdated), crmVals, bw.nowArg, int64(o.RowSum))
}

// failingChunk bounds the references asked about in one query.
const failingChunk = 500

// failingAmong returns the references of the batch that have a stored
// failure: none without a query when no failure is stored at all, else
// by the reference's index, a chunk of references per query.
func failingAmong(ctx context.Context, tx *sql.Tx, batch []state.Outcome) (map[string]bool, error) {
	failing := map[string]bool{}
	var stored bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM failures)`).Scan(&stored); err != nil || !stored {
		return failing, err
	}
	for len(batch) > 0 {
		chunk := batch[:min(len(batch), failingChunk)]
		batch = batch[len(chunk):]
		args := make([]any, len(chunk))
		for i, o := range chunk {
			args[i] = o.Reference
		}
		q := `SELECT reference FROM failures WHERE reference IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		if err := scanReferences(ctx, tx, q, args, failing); err != nil {
			return nil, err
		}
	}
	return failing, nil
}

// scanReferences adds the references that query answers to set.
func scanReferences(ctx context.Context, tx *sql.Tx, query string, args []any, set map[string]bool) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return err
		}
		set[ref] = true
	}
	return rows.Err()
}
