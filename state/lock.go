package state

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"syscall"
	"time"
)

// Lock is the state file held by this process for one run.
type Lock struct {
	db    *DB
	PID   int
	Host  string
	Kind  string
	Since time.Time
	// TookOver is the lock of a process that no longer exists on this
	// host, taken over by Acquire; nil when the file was free.
	TookOver *LockedError
}

// Acquire takes the state file for one run of the given kind (run,
// import, ...), in a write transaction, so that two processes cannot both
// win. A lock held by a live process, or by a process of another host
// (whose liveness cannot be told from here), is a *LockedError. One left
// by a process of this host that no longer exists is taken over and
// reported in Lock.TookOver.
//
// A lock held by this very process is also a *LockedError: one run at a
// time, whoever asks.
func (db *DB) Acquire(ctx context.Context, kind string) (*Lock, error) {
	host, _ := os.Hostname()
	l := &Lock{db: db, PID: os.Getpid(), Host: host, Kind: kind, Since: db.Now().UTC().Truncate(time.Second)}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var held LockedError
		var since int64
		err := tx.QueryRowContext(ctx, `SELECT pid, host, kind, since FROM lock WHERE id = 1`).
			Scan(&held.PID, &held.Host, &held.Kind, &since)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			held.Since = fromUnix(since)
			if held.Host != host || processAlive(held.PID) {
				return &held
			}
			l.TookOver = &held
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lock (id, pid, host, kind, since) VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, kind = excluded.kind, since = excluded.since`,
			l.PID, l.Host, l.Kind, l.Since.Unix())
		return err
	})
	var le *LockedError
	if errors.As(err, &le) {
		return nil, le
	}
	if err != nil {
		return nil, db.fail("lock state", err)
	}
	return l, nil
}

// Release gives the state file back. Releasing twice, or a lock that was
// taken over meanwhile, changes nothing.
func (l *Lock) Release(ctx context.Context) error {
	_, err := l.db.rw.ExecContext(ctx, `DELETE FROM lock WHERE id = 1 AND pid = ? AND host = ? AND since = ?`,
		l.PID, l.Host, l.Since.Unix())
	if err != nil {
		return l.db.fail("unlock state", err)
	}
	return nil
}

// processAlive reports whether a process with that pid exists on this
// host (one that exists but is not ours to signal counts as alive).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
