package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"erpsync/state/compact"
	"erpsync/state/prepared"
)

// Event is one thing erpsync did or saw of a customer: a run's create,
// update, delete or refusal of it, drift or a hand delete the refresh
// found. The history keeps only events: an unchanged customer makes
// none.
type Event struct {
	ID        int64 // the order of saving; newest is highest
	Reference string
	RunID     int64
	At        time.Time // kept to the second
	Kind      string    // one of the Event* kinds
	Op        string    // the operation sent (create, update, delete); "" for what was seen
	File      string    // the export
	Line      int       // its line; 0 when none
	// Changes: for a write, each field old → new; for drift, Old is the
	// CRM's value and New the one erpsync pushed.
	Changes []FieldChange
	Status  int    // the CRM's HTTP status, when it answered
	Answer  string // the CRM's answer when not a plain success: error code and message, or what it stored otherwise
	Policy  string // for drift: sync.drift applied
}

// FieldChange is one field of an event, old → new.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// Kinds of events.
const (
	EventCreated       = "created"
	EventUpdated       = "updated"
	EventDeleted       = "deleted"
	EventDeactivated   = "deactivated"
	EventReactivated   = "reactivated" // a deactivated customer's row back in the export
	EventRefused       = "refused"     // the CRM refused the write, or stored other than was sent
	EventInvalidRow    = "invalid_row" // erpsync refused the export's row (a row error)
	EventDrift         = "drift"       // edited in the CRM by hand
	EventDeletedByHand = "deleted_by_hand"
)

// HistoryKeeper is a customer's history in the checkpoint: what the
// engine records at a run's end, and what `why` and `status` read.
type HistoryKeeper interface {
	// SaveHistory adds events and removes those before keepSince (zero:
	// none), in one transaction; it returns how many it removed.
	SaveHistory(ctx context.Context, events []Event, keepSince time.Time) (pruned int, err error)
	// History returns a reference's events, newest first.
	History(ctx context.Context, ref string) ([]Event, error)
	// HistoryCount is the number of events kept.
	HistoryCount(ctx context.Context) (int, error)
}

// SaveHistory adds events and prunes those before keepSince, in one
// transaction.
func (db *DB) SaveHistory(ctx context.Context, events []Event, keepSince time.Time) (int, error) {
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

// PutHistory queues history events that are no outcome's (the drift a
// run found, the rows it refused) before the outcomes put after it: they
// are saved in the transaction of the first batch that holds them, in
// order with the events the outcomes carry (Outcome.History).
func (w *Writer) PutHistory(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	return w.put(ctx, Outcome{History: events})
}

// HistoryOnly says whether an outcome of a batch is history events alone
// (PutHistory), no outcome to record.
func (o *Outcome) HistoryOnly() bool { return o.Op == "" }

// BatchHistory is the history events a batch carries, in order.
func BatchHistory(batch []Outcome) []Event {
	n := 0
	for i := range batch {
		n += len(batch[i].History)
	}
	if n == 0 {
		return nil
	}
	out := make([]Event, 0, n)
	for i := range batch {
		out = append(out, batch[i].History...)
	}
	return out
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
func insertHistory(ctx context.Context, tx prepared.Conn, events []Event) error {
	args := make([]any, 0, 11*historyBatch)
	for len(events) > 0 {
		i := slices.IndexFunc(historySizes, func(n int) bool { return n <= len(events) })
		n := historySizes[i]
		args = args[:0]
		for _, e := range events[:n] {
			changes, err := EncodeChanges(e.Changes)
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
func (db *DB) History(ctx context.Context, ref string) ([]Event, error) {
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

// EncodeChanges is the stored form of an event's changes ("" for none):
// compact.Changes's, since wt-s4-history; JSON before.
func EncodeChanges(cs []FieldChange) (string, error) {
	if len(cs) == 0 {
		return "", nil
	}
	return compact.Changes(len(cs), func(i int) (string, string, string) { return cs[i].Field, cs[i].Old, cs[i].New }), nil
}

// DecodeChanges reads EncodeChanges's form, or the JSON of the rows saved
// before it ('[').
func DecodeChanges(s string) ([]FieldChange, error) {
	if s == "" {
		return nil, nil
	}
	var cs []FieldChange
	var err error
	if s[0] == '[' {
		err = json.Unmarshal([]byte(s), &cs)
	} else {
		err = compact.ReadChanges(s, func(f, o, n string) { cs = append(cs, FieldChange{Field: f, Old: o, New: n}) })
	}
	if err != nil {
		return nil, fmt.Errorf("decode changes: %w", err)
	}
	return cs, nil
}
