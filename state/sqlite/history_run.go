package sqlite

import (
	"context"
	"fmt"

	"erpsync/state"
)

// RunEvents returns the first limit events a run saved, in order. One run
// at a time saves, so a run's events follow one another: the first is
// found by a binary search over ids (point queries on the primary key; no
// index on run_id paid at every save), and the read stops at another's.
func (db *DB) RunEvents(ctx context.Context, runID int64, limit int) ([]state.Event, error) {
	var lo, hi int64 // the first event of runID or a later run is in (lo, hi], hi past the end when none
	err := db.ro.QueryRowContext(ctx, `SELECT coalesce(min(id), 1) - 1, coalesce(max(id), 0) + 1 FROM history`).Scan(&lo, &hi)
	for err == nil && lo+1 < hi {
		mid, run := lo+(hi-lo)/2, int64(0) // run: of the last event at or before mid
		err = db.ro.QueryRowContext(ctx, `SELECT coalesce((SELECT run_id FROM history WHERE id <= ? ORDER BY id DESC LIMIT 1), 0)`, mid).Scan(&run)
		if run < runID {
			lo = mid
		} else {
			hi = mid
		}
	}
	if err != nil {
		return nil, db.fail("read a run's history", err)
	}
	return db.events(ctx, "read a run's history", func(e state.Event) bool { return e.RunID != runID },
		`SELECT `+eventColumns+` FROM history WHERE id >= ? ORDER BY id LIMIT ?`, hi, max(limit, 0))
}

// eventColumns are an event's columns, as events reads them.
const eventColumns = `id, reference, run_id, at, kind, op, file, line, changes, status, answer, policy`

// events reads the events query selects (eventColumns) until stop says
// so (nil: every one); op names the reading in its errors.
func (db *DB) events(ctx context.Context, op string, stop func(state.Event) bool, query string, args ...any) ([]state.Event, error) {
	rows, err := db.ro.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, db.fail(op, err)
	}
	defer rows.Close()
	var out []state.Event
	for rows.Next() {
		var e state.Event
		var at int64
		var changes string
		if err := rows.Scan(&e.ID, &e.Reference, &e.RunID, &at, &e.Kind, &e.Op, &e.File, &e.Line, &changes,
			&e.Status, &e.Answer, &e.Policy); err != nil {
			return nil, db.fail(op, err)
		}
		if stop != nil && stop(e) {
			break
		}
		e.At = fromUnix(at)
		if e.Changes, err = state.DecodeChanges(changes); err != nil {
			return nil, fmt.Errorf("%s: event %d of %s: %w", op, e.ID, e.Reference, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, err)
	}
	return out, nil
}
