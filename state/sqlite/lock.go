package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"erpsync/state"
	"erpsync/state/runlock"
)

// Acquire takes the state file for one run of the given kind (run,
// import, ...), in a write transaction, so that two processes cannot both
// win, and renews it every Heartbeat until Release (or Close).
//
// A lock held by a running process is a *LockedError; so is one held by
// this very process (one run at a time, whoever asks). A lock is taken
// over, and reported in Lock.TookOver, when its holder is gone (see
// gone): where its processes can be seen, no process runs with its pid
// and start; elsewhere, not renewed for StaleAfter.
// `erpsync unlock` frees one by hand (Unlock).
func (db *DB) Acquire(ctx context.Context, kind string) (*state.Lock, error) {
	me := runlock.ThisProcess(kind, db.Now())
	var tookOver *state.Holder
	err := db.tx(ctx, func(tx *sql.Tx) error {
		held, err := holder(ctx, tx, "main")
		if err != nil {
			return err
		}
		if held != nil {
			if !held.GoneAt(me.Since) {
				return &state.LockedError{Holder: *held}
			}
			tookOver = held
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lock (id, pid, host, kind, since, pid_start, pid_ns, heartbeat) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, kind = excluded.kind,
				since = excluded.since, pid_start = excluded.pid_start, pid_ns = excluded.pid_ns, heartbeat = excluded.heartbeat`,
			me.PID, me.Host, me.Kind, me.Since.Unix(), me.PIDStart, me.PIDNS, me.Heartbeat.Unix())
		return err
	})
	var le *state.LockedError
	if errors.As(err, &le) {
		return nil, le
	}
	if err != nil {
		return nil, db.fail("lock state", err)
	}
	return runlock.Hold(ctx, me, tookOver, runlock.LockHooks{Renew: db.renewLock, Free: db.Unlock,
		Every: db.heartbeat(), Now: db.Now, Closed: db.closed}), nil
}

// renewLock records a renewal of h's lock at now.
func (db *DB) renewLock(ctx context.Context, h *state.Holder, now time.Time) (bool, error) {
	res, err := db.rw.ExecContext(ctx, `UPDATE lock SET heartbeat = ? WHERE id = 1 AND pid = ? AND host = ? AND since = ?`,
		now.Unix(), h.PID, h.Host, h.Since.Unix())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Holder returns who holds the state file, or nil when it is free.
func (db *DB) Holder(ctx context.Context) (*state.Holder, error) {
	held, err := holder(ctx, db.ro, "main")
	if err != nil {
		return nil, db.fail("read state lock", err)
	}
	return held, nil
}

// Unlock frees the state file held by held (as Holder returned it), for
// an operator who knows its holder is gone. A lock taken since by someone
// else is left alone: Unlock returns false.
func (db *DB) Unlock(ctx context.Context, held *state.Holder) (bool, error) {
	res, err := db.rw.ExecContext(ctx, `DELETE FROM lock WHERE id = 1 AND pid = ? AND host = ? AND since = ?`,
		held.PID, held.Host, held.Since.Unix())
	if err != nil {
		return false, db.fail("unlock state", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, db.fail("unlock state", err)
	}
	return n == 1, nil
}

// Gone reports whether the holder of a lock no longer runs, by the rules
// Acquire takes a lock over by.
func (db *DB) Gone(held *state.Holder) bool {
	return held.GoneAt(db.Now())
}

// Visible reports whether the holder's processes can be seen from this
// process (same host, same pid namespace): then whether it runs is known,
// not guessed.
func (db *DB) Visible(held *state.Holder) bool {
	return held.Visible()
}

// heartbeat is the renewal period: Heartbeat, unless a test set another.
func (db *DB) heartbeat() time.Duration {
	if db.LockHeartbeat > 0 {
		return db.LockHeartbeat
	}
	return runlock.Heartbeat
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func holder(ctx context.Context, q queryer, schema string) (*state.Holder, error) {
	var held state.Holder
	var since, beat int64
	err := q.QueryRowContext(ctx, `SELECT pid, host, kind, since, pid_start, pid_ns, heartbeat FROM `+schema+`.lock WHERE id = 1`).
		Scan(&held.PID, &held.Host, &held.Kind, &since, &held.PIDStart, &held.PIDNS, &beat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	held.Since = fromUnix(since)
	if beat > 0 {
		held.Heartbeat = fromUnix(beat)
	}
	return &held, nil
}
