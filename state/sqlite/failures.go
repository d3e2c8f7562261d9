package sqlite

import (
	"context"

	"erpsync/state"
)

// Failures returns the pending row failures, ordered by reference.
func (db *DB) Failures(ctx context.Context) ([]state.Failure, error) {
	rows, err := db.ro.QueryContext(ctx, `SELECT reference, run_id, op, line, status, code, message, at
		FROM failures ORDER BY reference`)
	if err != nil {
		return nil, db.fail("read failures", err)
	}
	defer rows.Close()
	var out []state.Failure
	for rows.Next() {
		var f state.Failure
		var at int64
		if err := rows.Scan(&f.Reference, &f.RunID, &f.Op, &f.Line, &f.Status, &f.Code, &f.Message, &at); err != nil {
			return nil, db.fail("read failures", err)
		}
		f.At = fromUnix(at)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("read failures", err)
	}
	return out, nil
}
