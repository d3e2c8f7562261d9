package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"erpsync/state"
	"erpsync/state/prepared"
)

// SaveHistory adds events and prunes those before keepSince, in one
// transaction.
func (db *DB) SaveHistory(ctx context.Context, events []state.Event, keepSince time.Time) (int, error) {
	var pruned int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if !keepSince.IsZero() {
			var err error
			if pruned, err = pruneHistory(ctx, tx, unix(keepSince)); err != nil {
				return err
			}
		}
		return insertHistory(ctx, prepared.New(nil).Begin(tx), events)
	})
	if err != nil {
		return 0, db.fail("record history", err)
	}
	return int(pruned), nil
}

// pruneHistory removes the events before cutoff (unix seconds). Events
// are appended in time order, so those to remove are the ids below the
// first one at or after cutoff: found by a binary search over ids, each
// step a point query on the primary key, where an index on time would
// cost every event saved (migration 010 dropped it). A nightly run
// whose oldest event is within retention pays one point query. The clock
// stepping back makes it approximate: an event saved after the step, and
// older than one before it, goes with the later one.
func pruneHistory(ctx context.Context, tx *sql.Tx, cutoff int64) (int64, error) {
	first := func(from int64) (id, at int64, ok bool, err error) {
		err = tx.QueryRowContext(ctx, `SELECT id, at FROM history WHERE id >= ? ORDER BY id LIMIT 1`, from).Scan(&id, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, 0, false, nil
		}
		return id, at, err == nil, err
	}
	lo, at, ok, err := first(math.MinInt64)
	if err != nil || !ok || at >= cutoff {
		return 0, err // none, or the oldest is kept
	}
	var hi int64
	if err := tx.QueryRowContext(ctx, `SELECT max(id) + 1 FROM history`).Scan(&hi); err != nil {
		return 0, err
	}
	// lo: an event before cutoff; no event from hi on is before it.
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		id, at, ok, err := first(mid)
		switch {
		case err != nil:
			return 0, err
		case !ok || id >= hi: // no event in [mid, hi)
			hi = mid
		case at < cutoff:
			lo = id
		default:
			hi = id
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM history WHERE id < ?`, hi)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// historyBatch is how many events one INSERT adds: a nightly run's ten
// thousand events are some 160 statements, not ten thousand (11
// parameters an event, far below SQLite's limit of 32,766); the rest
// goes 8, then 1, a statement (each prepared once by a writer: its
// statements, historySizes).
const historyBatch = 64

// historySizes are the events an INSERT adds, largest first.
var historySizes = []int{historyBatch, 8, 1}

// historyColumns are the columns of an event's row, in INSERT order.
const historyColumns = `reference, run_id, at, kind, op, file, line, changes, status, answer, policy`

// insertHistory adds events, as many a statement as historySizes allow,
// each statement prepared once in tx (prepared.Tx: once per writer).
func insertHistory(ctx context.Context, tx prepared.Conn, events []state.Event) error {
	args := make([]any, 0, 11*historyBatch)
	for len(events) > 0 {
		i := slices.IndexFunc(historySizes, func(n int) bool { return n <= len(events) })
		n := historySizes[i]
		args = args[:0]
		for _, e := range events[:n] {
			changes, err := state.EncodeChanges(e.Changes)
			if err != nil {
				return fmt.Errorf("history of %s: %w", e.Reference, err)
			}
			args = append(args, e.Reference, e.RunID, unix(e.At), e.Kind, e.Op, e.File, e.Line,
				changes, e.Status, e.Answer, e.Policy)
		}
		if _, err := tx.ExecContext(ctx, insertHistorySQL(n), args...); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// insertHistorySQL is the INSERT of n events.
func insertHistorySQL(n int) string {
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	return "INSERT INTO history (" + historyColumns + ") VALUES " + row + strings.Repeat(", "+row, n-1)
}

// History returns a reference's events, newest first.
func (db *DB) History(ctx context.Context, ref string) ([]state.Event, error) {
	return db.events(ctx, "read history", nil, `SELECT `+eventColumns+` FROM history WHERE reference = ? ORDER BY id DESC`, ref)
}

// HistoryCount is the number of events kept.
func (db *DB) HistoryCount(ctx context.Context) (int, error) {
	var n int
	if err := db.ro.QueryRowContext(ctx, `SELECT count(*) FROM history`).Scan(&n); err != nil {
		return 0, db.fail("count history", err)
	}
	return n, nil
}
