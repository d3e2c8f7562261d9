// Package memstate is the checkpoint in memory: a state.Checkpoint with
// the same semantics as the SQLite sqlite.DB (the contract suite of
// package statetest runs on both), for tests of the engine that need no
// file. It keeps what SQLite keeps, in the form SQLite keeps it (values as
// their JSON, CRM times in milliseconds, its own times in seconds), so
// that what is read back is what sqlite.DB would answer.
package memstate

import (
	"context"
	"errors"
	"fmt"

	gosync "sync"
	"time"

	"erpsync/state"
	"erpsync/state/runlock"
)

// Mem is an in-memory checkpoint. New sets its defaults; it needs no
// Open. Its methods are safe for concurrent use.
type Mem struct {
	// Now is the clock of every stored time; tests replace it.
	Now func() time.Time
	// LockHeartbeat is how often a held lock is renewed (default
	// runlock.Heartbeat).
	LockHeartbeat time.Duration

	mu        gosync.RWMutex
	records   map[string]*record
	sorted    []string // the references of records, in byte order; nil: to sort again
	failures  map[string]state.Failure
	deleted   []state.Deleted // oldest first
	runs      []run           // by id: runs[i] has id i+1
	marks     map[string]time.Time
	fp        string
	unmanaged map[int64]unmanaged
	lock      *state.Holder
	history   []historyEvent // oldest first
	historyID int64
	closed    chan struct{}
	closeOnce gosync.Once
}

// record is a managed reference, as the records table keeps it.
type record struct {
	hash    string
	vals    string // JSON, keys sorted
	crmID   int64
	lu      int64  // the CRM's lastUpdated, unix milliseconds; 0: none
	crmVals string // JSON
	pushed  int64  // unix seconds
	gone    int64  // when found deleted by hand, unix seconds; 0: present
	rowSum  uint64
}

// unmanaged is a customer seen in the CRM that erpsync does not manage.
type unmanaged struct {
	ref string
	lu  int64 // unix milliseconds
}

// run is an entry of the run history.
type run struct {
	state.Run
	counts string // JSON
}

// Mem is a checkpoint.
var (
	_ state.Checkpoint = (*Mem)(nil)
	_ state.Inspector  = (*Mem)(nil)
)

// New returns an empty checkpoint on the system clock.
func New() *Mem {
	return &Mem{Now: time.Now, records: map[string]*record{}, failures: map[string]state.Failure{},
		marks: map[string]time.Time{}, unmanaged: map[int64]unmanaged{}, closed: make(chan struct{})}
}

// errClosed is the error of every operation after Close.
var errClosed = errors.New("memstate: checkpoint closed")

// Close ends the checkpoint: its locks stop renewing, and every later
// operation fails. Closing twice is harmless.
func (m *Mem) Close() error {
	m.closeOnce.Do(func() { close(m.closed) })
	return nil
}

// view runs fn under the read lock, once the checkpoint is found open and
// ctx not done; op names the operation in errors.
func (m *Mem) view(ctx context.Context, op string, fn func() error) error {
	if err := m.usable(ctx, op); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn()
}

// update runs fn under the write lock, as view does: one transaction.
func (m *Mem) update(ctx context.Context, op string, fn func() error) error {
	if err := m.usable(ctx, op); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return fn()
}

// usable says why the checkpoint cannot be used now, if it cannot.
func (m *Mem) usable(ctx context.Context, op string) error {
	select {
	case <-m.closed:
		return fmt.Errorf("%s: %w", op, errClosed)
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Clock is the time on the checkpoint's clock (Now).
func (m *Mem) Clock() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

// Verify finds nothing to check in memory: nil while the checkpoint is
// open.
func (m *Mem) Verify(ctx context.Context) error {
	return m.usable(ctx, "check state")
}

// NewWriter returns the checkpoint's writer of outcomes, with the
// batching of sqlite.DB's (the same Writer).
func (m *Mem) NewWriter(batch int, every time.Duration) *state.Writer {
	return state.NewBatchWriter(m.writeOutcomes, batch, every)
}

// Acquire takes the checkpoint for one run of the given kind, as
// sqlite.DB.Acquire does: a lock held by a running process (this one too)
// is a *state.LockedError, the lock of a process that is gone is taken
// over.
func (m *Mem) Acquire(ctx context.Context, kind string) (*state.Lock, error) {
	me := runlock.ThisProcess(kind, m.Clock())
	var tookOver *state.Holder
	err := m.update(ctx, "lock state", func() error {
		if m.lock != nil {
			if !m.lock.GoneAt(me.Since) {
				return &state.LockedError{Holder: *m.lock}
			}
			held := *m.lock
			tookOver = &held
		}
		held := me
		m.lock = &held
		return nil
	})
	if err != nil {
		return nil, err
	}
	return runlock.Hold(ctx, me, tookOver, runlock.LockHooks{Renew: m.renewLock, Free: m.Unlock,
		Every: m.LockHeartbeat, Now: m.Clock, Closed: m.closed}), nil
}

// holds reports whether the lock is h's: the same pid, host and start.
func (m *Mem) holds(h *state.Holder) bool {
	return m.lock != nil && m.lock.PID == h.PID && m.lock.Host == h.Host && m.lock.Since.Unix() == h.Since.Unix()
}

// renewLock records a renewal of h's lock at now.
func (m *Mem) renewLock(ctx context.Context, h *state.Holder, now time.Time) (bool, error) {
	held := false
	err := m.update(ctx, "renew state lock", func() error {
		if held = m.holds(h); held {
			m.lock.Heartbeat = fromUnix(now.Unix())
		}
		return nil
	})
	return held, err
}

// Holder returns who holds the checkpoint, or nil when it is free.
func (m *Mem) Holder(ctx context.Context) (*state.Holder, error) {
	var out *state.Holder
	err := m.view(ctx, "read state lock", func() error {
		if m.lock != nil {
			held := *m.lock
			out = &held
		}
		return nil
	})
	return out, err
}

// Unlock frees the checkpoint held by held; false when another holds it
// since.
func (m *Mem) Unlock(ctx context.Context, held *state.Holder) (bool, error) {
	freed := false
	err := m.update(ctx, "unlock state", func() error {
		if freed = m.holds(held); freed {
			m.lock = nil
		}
		return nil
	})
	return freed, err
}

// The stored times, encoded as SQLite stores them (state/storedtime.go).
var (
	fromUnix   = state.FromSeconds
	unix       = state.Seconds
	millis     = state.Millis
	fromMillis = state.FromMillis
)
