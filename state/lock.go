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
	db    *DB
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
	host, _ := os.Hostname()
	now := db.Now().UTC().Truncate(time.Second)
	l := &Lock{db: db, PID: os.Getpid(), Host: host, Kind: kind, Since: now,
		pidStart: processStart(os.Getpid()), pidNS: pidNamespace(), lostC: make(chan struct{})}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		held, err := holder(ctx, tx)
		if err != nil {
			return err
		}
		if held != nil {
			if !held.gone(host, l.pidNS, now) {
				return &LockedError{Holder: *held}
			}
			l.TookOver = held
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lock (id, pid, host, kind, since, pid_start, pid_ns, heartbeat) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, kind = excluded.kind,
				since = excluded.since, pid_start = excluded.pid_start, pid_ns = excluded.pid_ns, heartbeat = excluded.heartbeat`,
			l.PID, l.Host, l.Kind, l.Since.Unix(), l.pidStart, l.pidNS, now.Unix())
		return err
	})
	var le *LockedError
	if errors.As(err, &le) {
		return nil, le
	}
	if err != nil {
		return nil, db.fail("lock state", err)
	}
	l.stop, l.beating = make(chan struct{}), make(chan struct{})
	// The hold is renewed until Release, also after ctx is cancelled: an
	// interrupted run still finishes its requests in flight and records
	// them.
	go l.beat(context.WithoutCancel(ctx))
	return l, nil
}

// beat renews the lock every Heartbeat. A renewal that fails is tried
// again at the next beat: the run goes on meanwhile.
func (l *Lock) beat(ctx context.Context) {
	defer close(l.beating)
	t := time.NewTicker(l.db.heartbeat())
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.db.closed:
			return
		case <-t.C:
			res, err := l.db.rw.ExecContext(ctx, `UPDATE lock SET heartbeat = ? WHERE id = 1 AND pid = ? AND host = ? AND since = ?`,
				l.db.Now().Unix(), l.PID, l.Host, l.Since.Unix())
			if err == nil {
				if n, err := res.RowsAffected(); err == nil && n == 0 {
					l.markLost()
				}
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
	res, err := l.db.rw.ExecContext(ctx, `DELETE FROM lock WHERE id = 1 AND pid = ? AND host = ? AND since = ?`,
		l.PID, l.Host, l.Since.Unix())
	if err != nil {
		return l.db.fail("unlock state", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 && !l.released {
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
	return n == 1, err
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
