package state

import (
	"context"
	"time"
)

// Failure is a row the CRM refused (or that could not be sent). It stays
// pending until a later success of the same reference clears it; a new
// failure of the reference replaces it.
type Failure struct {
	RunID     int64
	Op        string // upsert | delete
	Reference string
	Line      int // line of the row in the export, 0 when none
	Status    int // HTTP status, 0 when no answer
	Code      string
	Message   string
	At        time.Time
}

// Failures returns the pending row failures, ordered by reference.
func (db *DB) Failures(ctx context.Context) ([]Failure, error) {
	rows, err := db.ro.QueryContext(ctx, `SELECT reference, run_id, op, line, status, code, message, at
		FROM failures ORDER BY reference`)
	if err != nil {
		return nil, db.fail("read failures", err)
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
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
