package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// LockedError says that another process holds the checkpoint.
type LockedError struct {
	PID   int
	Host  string
	Kind  string
	Since time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("the state file is held by %s (pid %d on %s) since %s; one run at a time",
		e.Kind, e.PID, e.Host, e.Since.UTC().Format(time.RFC3339))
}

// Lock is the checkpoint held by this process.
type Lock struct {
	db  *DB
	pid int
	// TookOver is set when the lock of a process that no longer exists on
	// this host was taken over.
	TookOver *LockedError
}

// Acquire takes the checkpoint for one run. A lock held by a live process
// is a *LockedError; one left by a dead process of this host is taken over.
func (db *DB) Acquire(ctx context.Context, kind string) (*Lock, error) {
	host, _ := os.Hostname()
	pid := os.Getpid()
	l := &Lock{db: db, pid: pid}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var held LockedError
		var since int64
		err := tx.QueryRowContext(ctx, `SELECT pid, host, kind, since FROM lock WHERE id = 1`).Scan(&held.PID, &held.Host, &held.Kind, &since)
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
			pid, host, kind, db.Now().Unix())
		return err
	})
	var le *LockedError
	if errors.As(err, &le) {
		return nil, le
	}
	if err != nil {
		return nil, fmt.Errorf("lock state: %w", err)
	}
	return l, nil
}

// Release gives the checkpoint back.
func (l *Lock) Release(ctx context.Context) error {
	if _, err := l.db.db.ExecContext(ctx, `DELETE FROM lock WHERE id = 1 AND pid = ?`, l.pid); err != nil {
		return fmt.Errorf("unlock state: %w", err)
	}
	return nil
}

// processAlive reports whether a process with that pid exists here.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
