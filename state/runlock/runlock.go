// Package runlock is the checkpoint's run lock, one run at a time: who
// holds it (Holder: pid, host, the process's start and pid namespace),
// whether that holder is gone (its process no longer runs, or, where it
// cannot be seen, its lock not renewed for StaleAfter), and a held Lock
// renewed every Heartbeat until Release. Where the holder is recorded is
// the checkpoint's: LockHooks (package state/sqlite keeps it in SQLite, memstate
// in memory).
package runlock

import (
	"context"
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

	// PIDStart is when its process started, in clock ticks since boot
	// (0: not recorded); PIDNS its pid namespace ("": not recorded).
	PIDStart int64
	PIDNS    string
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
		PIDStart: processStart(os.Getpid()), PIDNS: pidNamespace()}
}

// GoneAt reports whether the holder no longer runs, as seen from this
// process at now, by the rules Acquire takes a lock over by.
func (e *Holder) GoneAt(now time.Time) bool {
	host, _ := os.Hostname()
	return e.gone(host, pidNamespace(), now.UTC())
}

// Visible reports whether the holder's processes can be seen from this
// process (same host, same pid namespace): then whether it runs is known,
// not guessed.
func (e *Holder) Visible() bool {
	host, _ := os.Hostname()
	return e.visible(host, pidNamespace())
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
		pidStart: me.PIDStart, pidNS: me.PIDNS, lostC: make(chan struct{}),
		stop: make(chan struct{}), beating: make(chan struct{})}
	go l.beat(context.WithoutCancel(ctx))
	return l
}

// holder is the lock's holder, as recorded.
func (l *Lock) holder() *Holder {
	return &Holder{PID: l.PID, Host: l.Host, Kind: l.Kind, Since: l.Since, PIDStart: l.pidStart, PIDNS: l.pidNS}
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

// visible reports whether the holder's processes can be seen from here:
// the same host name and the same pid namespace (or one not recorded).
// Containers that share a host name do not see each other's pids.
func (e *Holder) visible(host, ns string) bool {
	return e.Host == host && (e.PIDNS == "" || ns == "" || e.PIDNS == ns)
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
	if e.PIDStart == 0 {
		return e.PID == os.Getpid() && processStart(e.PID) != 0
	}
	start := processStart(e.PID)
	return start != 0 && start != e.PIDStart
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
