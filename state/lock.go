package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Heartbeat is how often a holder renews its lock; a lock of another host
// not renewed for StaleAfter is taken to be of a process that is gone.
const (
	Heartbeat  = 30 * time.Second
	StaleAfter = 10 * Heartbeat
)

// Holder is who holds the state file.
type Holder struct {
	PID       int
	Host      string
	Kind      string // what the holder is doing: run, import, ...
	Since     time.Time
	Heartbeat time.Time // last renewal; zero for a holder that never renews (an older erpsync)

	pidStart int64
	pidNS    string
}

// Lock is the state file held by this process for one run.
type Lock struct {
	hooks LockHooks
	PID   int
	Host  string
	Kind  string
	Since time.Time
	// TookOver is the lock of a process that is gone, taken over by
	// Acquire; nil when the file was free.
	TookOver *Holder

	pidStart int64
	pidNS    string
	stop     chan struct{} // closed by Release: the heartbeat ends
	beating  chan struct{} // closed when the heartbeat has ended
	lost     atomic.Bool   // a renewal found the lock in other hands
	lostOnce gosync.Once
	lostC    chan struct{} // closed when lost is set
	released bool          // Release has run once
}

// LockHooks are a checkpoint's side of the locks it hands out (Hold):
// where the holder's record is renewed and freed.
type LockHooks struct {
	// Renew records at now that h still holds the lock; false when the
	// lock is no longer h's (same pid, host and since).
	Renew func(ctx context.Context, h *Holder, now time.Time) (bool, error)
	// Free frees the lock if h holds it; false when it is not h's.
	Free func(ctx context.Context, h *Holder) (bool, error)
	// Every is the renewal period (Heartbeat when 0).
	Every time.Duration
	// Now is the checkpoint's clock.
	Now func() time.Time
	// Closed, when closed, ends the renewals: the checkpoint is closed.
	Closed <-chan struct{}
}

// ThisProcess is the holder that this process records when it takes the
// state file at now for a run of the given kind (Since: now, to the
// second, in UTC; Heartbeat: the same).
func ThisProcess(kind string, now time.Time) Holder {
	host, _ := os.Hostname()
	now = now.UTC().Truncate(time.Second)
	return Holder{PID: os.Getpid(), Host: host, Kind: kind, Since: now, Heartbeat: now,
		pidStart: processStart(os.Getpid()), pidNS: pidNamespace()}
}

// GoneAt reports whether the holder no longer runs, as seen from this
// process at now, by the rules Acquire takes a lock over by.
func (e *Holder) GoneAt(now time.Time) bool {
	host, _ := os.Hostname()
	return e.gone(host, pidNamespace(), now.UTC())
}

// Hold is the lock that me (ThisProcess) has just recorded, having taken
// over tookOver (nil when the file was free): it is renewed every
// hooks.Every until Release, also after ctx is cancelled (an interrupted
// run still finishes its requests in flight and records them).
func Hold(ctx context.Context, me Holder, tookOver *Holder, hooks LockHooks) *Lock {
	if hooks.Every <= 0 {
		hooks.Every = Heartbeat
	}
	l := &Lock{hooks: hooks, PID: me.PID, Host: me.Host, Kind: me.Kind, Since: me.Since, TookOver: tookOver,
		pidStart: me.pidStart, pidNS: me.pidNS, lostC: make(chan struct{}),
		stop: make(chan struct{}), beating: make(chan struct{})}
	go l.beat(context.WithoutCancel(ctx))
	return l
}

// holder is the lock's holder, as recorded.
func (l *Lock) holder() *Holder {
	return &Holder{PID: l.PID, Host: l.Host, Kind: l.Kind, Since: l.Since, pidStart: l.pidStart, pidNS: l.pidNS}
}

// Lost reports whether the lock was taken from this holder meanwhile (by
// `erpsync unlock -force`, or by another host after a long silence): two
// runs may then have written at once.
func (l *Lock) Lost() bool { return l.lost.Load() }

// LostC is closed as soon as a renewal finds the lock in other hands: the
// run must stop scheduling at once.
func (l *Lock) LostC() <-chan struct{} { return l.lostC }

// markLost records that the lock is in other hands.
func (l *Lock) markLost() {
	l.lost.Store(true)
	l.lostOnce.Do(func() { close(l.lostC) })
}

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
func (db *DB) Acquire(ctx context.Context, kind string) (*Lock, error) {
	me := ThisProcess(kind, db.Now())
	var tookOver *Holder
	err := db.tx(ctx, func(tx *sql.Tx) error {
		held, err := holder(ctx, tx)
		if err != nil {
			return err
		}
		if held != nil {
			if !held.gone(me.Host, me.pidNS, me.Since) {
				return &LockedError{Holder: *held}
			}
			tookOver = held
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lock (id, pid, host, kind, since, pid_start, pid_ns, heartbeat) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, kind = excluded.kind,
				since = excluded.since, pid_start = excluded.pid_start, pid_ns = excluded.pid_ns, heartbeat = excluded.heartbeat`,
			me.PID, me.Host, me.Kind, me.Since.Unix(), me.pidStart, me.pidNS, me.Heartbeat.Unix())
		return err
	})
	var le *LockedError
	if errors.As(err, &le) {
		return nil, le
	}
	if err != nil {
		return nil, db.fail("lock state", err)
	}
	return Hold(ctx, me, tookOver, LockHooks{Renew: db.renewLock, Free: db.Unlock,
		Every: db.heartbeat(), Now: db.Now, Closed: db.closed}), nil
}

// renewLock records a renewal of h's lock at now.
func (db *DB) renewLock(ctx context.Context, h *Holder, now time.Time) (bool, error) {
	res, err := db.rw.ExecContext(ctx, `UPDATE lock SET heartbeat = ? WHERE id = 1 AND pid = ? AND host = ? AND since = ?`,
		now.Unix(), h.PID, h.Host, h.Since.Unix())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// beat renews the lock every period. A renewal that fails is tried
// again at the next beat: the run goes on meanwhile.
func (l *Lock) beat(ctx context.Context) {
	defer close(l.beating)
	t := time.NewTicker(l.hooks.Every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.hooks.Closed:
			return
		case <-t.C:
			if held, err := l.hooks.Renew(ctx, l.holder(), l.hooks.Now()); err == nil && !held {
				l.markLost()
			}
		}
	}
}

// Release gives the state file back. Releasing twice, or a lock that was
// taken over meanwhile, changes nothing.
func (l *Lock) Release(ctx context.Context) error {
	if l.stop != nil {
		select {
		case <-l.stop:
		default:
			close(l.stop)
		}
		<-l.beating
	}
	freed, err := l.hooks.Free(ctx, l.holder())
	if err != nil {
		return err
	}
	if !freed && !l.released {
		l.markLost() // not ours any more
	}
	l.released = true
	return nil
}

// Holder returns who holds the state file, or nil when it is free.
func (db *DB) Holder(ctx context.Context) (*Holder, error) {
	held, err := holder(ctx, db.ro)
	if err != nil {
		return nil, db.fail("read state lock", err)
	}
	return held, nil
}

// Unlock frees the state file held by held (as Holder returned it), for
// an operator who knows its holder is gone. A lock taken since by someone
// else is left alone: Unlock returns false.
func (db *DB) Unlock(ctx context.Context, held *Holder) (bool, error) {
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
func (db *DB) Gone(held *Holder) bool {
	host, _ := os.Hostname()
	return held.gone(host, pidNamespace(), db.Now().UTC())
}

// Visible reports whether the holder's processes can be seen from this
// process (same host, same pid namespace): then whether it runs is known,
// not guessed.
func (db *DB) Visible(held *Holder) bool {
	host, _ := os.Hostname()
	return held.visible(host, pidNamespace())
}

// heartbeat is the renewal period: Heartbeat, unless a test set another.
func (db *DB) heartbeat() time.Duration {
	if db.LockHeartbeat > 0 {
		return db.LockHeartbeat
	}
	return Heartbeat
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func holder(ctx context.Context, q queryer) (*Holder, error) {
	var held Holder
	var since, beat int64
	err := q.QueryRowContext(ctx, `SELECT pid, host, kind, since, pid_start, pid_ns, heartbeat FROM lock WHERE id = 1`).
		Scan(&held.PID, &held.Host, &held.Kind, &since, &held.pidStart, &held.pidNS, &beat)
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

// visible reports whether the holder's processes can be seen from here:
// the same host name and the same pid namespace (or one not recorded).
// Containers that share a host name do not see each other's pids.
func (e *Holder) visible(host, ns string) bool {
	return e.Host == host && (e.pidNS == "" || ns == "" || e.pidNS == ns)
}

// gone reports whether the holder no longer runs, as seen from host and
// pid namespace ns at now.
//
// When its processes can be seen from here: no process runs with its pid
// and start. A lock of an older erpsync, recorded without a start, is gone
// when its pid is not running, or when its pid is ours (a restarted
// container is pid 1 again; this process would have recorded its start).
//
// Otherwise (another host, or another container): it has not renewed its
// lock for StaleAfter, by our clock (hosts' clocks are taken to agree
// within minutes). A lock never renewed, of an older erpsync, is never
// taken to be gone from there.
func (e *Holder) gone(host, ns string, now time.Time) bool {
	if !e.visible(host, ns) {
		return !e.Heartbeat.IsZero() && now.Sub(e.Heartbeat) > StaleAfter
	}
	if !processAlive(e.PID) {
		return true
	}
	if e.pidStart == 0 {
		return e.PID == os.Getpid() && processStart(e.PID) != 0
	}
	start := processStart(e.PID)
	return start != 0 && start != e.pidStart
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

// pidNamespace names this process's pid namespace (the target of
// /proc/self/ns/pid), or "" where that cannot be read.
func pidNamespace() string {
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return ns
}

// processStart returns when a process started, in clock ticks since boot
// (field 22 of /proc/PID/stat), or 0 where that cannot be read.
func processStart(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(data[i+1:]))
	const startField = 22 - 3 // fields after the name start at field 3
	if len(fields) <= startField {
		return 0
	}
	start, _ := strconv.ParseInt(fields[startField], 10, 64)
	return start
}
