// Package testrig is the test rig of the engine and its stages: crmsim
// over loopback with a client of it and a checkpoint (memstate in
// memory, or SQLite on disk when the test binary imports
// testrig/sqliterig: Each runs a test on every one linked and shows
// those not linked as skipped), on one clock
// that moves only when told, and the order in which the CRM met the
// writes. It links no SQLite itself: a stage's test binary that does not
// need a checkpoint on disk is linked without cgo's external link.
package testrig

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/plan/policy"
)

// Clock is a clock that moves only when told: the CRM's and the
// checkpoint's timestamps differ by what the test says, not by how long
// it slept. It is simtest's, the one fake clock of the tests.
type Clock = simtest.Clock

// NewClock returns a clock in the past, moved only by Advance.
func NewClock() *Clock {
	// In the past: a listing's "changed since I started" pull brings
	// nothing back by accident.
	return simtest.NewClock(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC))
}

// WriteLog is the order in which the CRM met the writes: "start POST ref"
// when a request arrives, "answer POST ref" when its status line is
// written (before any byte of the answer can reach the client).
type WriteLog struct {
	mu      gosync.Mutex
	entries []string
}

func (l *WriteLog) add(s string) {
	l.mu.Lock()
	l.entries = append(l.entries, s)
	l.mu.Unlock()
}

// Index returns the position of an entry, or -1.
func (l *WriteLog) Index(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Index(l.entries, s)
}

// answerLogger logs the answer of a write when its status is written.
type answerLogger struct {
	http.ResponseWriter
	log  *WriteLog
	what string
	done bool
}

func (w *answerLogger) WriteHeader(status int) {
	if !w.done {
		w.done = true
		w.log.add("answer " + w.what)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *answerLogger) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// WriteOf returns "POST ref" or "DELETE ref" for an upsert or a delete by
// reference, else "".
func WriteOf(r *http.Request) string {
	_, ref, ok := strings.Cut(r.URL.Path, "/customers/reference/")
	if !ok || (r.Method != http.MethodPost && r.Method != http.MethodDelete) {
		return ""
	}
	return r.Method + " " + ref
}

// Impl names an implementation of state.Checkpoint.
type Impl string

const (
	SQLite Impl = "sqlite" // sqlite.DB, a file in the test's folder
	Memory Impl = "memory" // memstate.Mem
)

// Impls are the checkpoints the engine's guarantees are shown on, in
// this order, those of them linked into the test binary (Register); both
// pass the contract suite of package statetest.
var Impls = []Impl{SQLite, Memory}

// Opener opens a new empty checkpoint for a test (see NewCheckpoint).
type Opener func(t testing.TB, now func() time.Time, heartbeat time.Duration) state.Checkpoint

// openers are the implementations linked: memstate always, SQLite when
// the test binary imports testrig/sqliterig (its init registers it).
var openers = map[Impl]Opener{Memory: openMemory}

// Register links impl's opener into the rig; a package's init calls it.
func Register(impl Impl, open Opener) { openers[impl] = open }

// Has reports whether impl is linked into the test binary: a package
// whose guarantees must be shown on SQLite checks it (memstate always is).
func Has(impl Impl) bool { return openers[impl] != nil }

// Each runs fn as a subtest on each checkpoint implementation, in the
// order of Impls. One not linked is a subtest skipped, which -v shows:
// a binary that forgot sqliterig does not pass on memstate alone silently.
func Each(t *testing.T, fn func(t *testing.T, impl Impl)) {
	t.Helper()
	for _, impl := range Impls {
		t.Run(string(impl), func(t *testing.T) {
			if !Has(impl) {
				t.Skip(skipReason(impl))
			}
			fn(t, impl)
		})
	}
}

// skipReason says why Each skips impl.
func skipReason(impl Impl) string {
	if impl == SQLite {
		return "SQLite is not linked into this test binary (import sync/internal/testrig/sqliterig)"
	}
	return fmt.Sprintf("checkpoint %q is not linked into this test binary", impl)
}

// NewCheckpoint returns a new empty checkpoint of impl, open and closed
// at the test's end, on the clock now (nil: the system's), renewing its
// lock every heartbeat (0: the default).
func NewCheckpoint(t testing.TB, impl Impl, now func() time.Time, heartbeat time.Duration) state.Checkpoint {
	t.Helper()
	open := openers[impl]
	if open == nil {
		msg := fmt.Sprintf("no checkpoint implementation %q linked", impl)
		if impl == SQLite {
			msg += `: import _ "erpsync/sync/internal/testrig/sqliterig" in the package's tests`
		}
		t.Fatal(msg)
	}
	return open(t, now, heartbeat)
}

// openMemory is memstate's Opener.
func openMemory(t testing.TB, now func() time.Time, heartbeat time.Duration) state.Checkpoint {
	m := memstate.New()
	if now != nil {
		m.Now = now
	}
	m.LockHeartbeat = heartbeat
	t.Cleanup(func() { m.Close() })
	return m
}

// Rig is a crmsim over loopback, a client of it and a checkpoint, all on
// one test clock.
type Rig struct {
	Sim    *crmsim.Server
	Store  *crmsim.Store
	Client *crm.Client
	CP     state.Checkpoint
	Clock  *Clock
	Writes *WriteLog
	// Before, when set, sees every request first and may answer it alone
	// (returning true).
	Before func(w http.ResponseWriter, r *http.Request) bool
}

// New starts crmsim with opt and a client sending token, with no
// retries (a failure is final at once), and a checkpoint in memory.
func New(t *testing.T, opt crmsim.Options, token string, concurrency int) *Rig {
	t.Helper()
	return NewOn(t, Memory, opt, token, concurrency)
}

// NewOn is New on a checkpoint of impl.
func NewOn(t *testing.T, impl Impl, opt crmsim.Options, token string, concurrency int) *Rig {
	t.Helper()
	r := &Rig{Clock: NewClock(), Writes: &WriteLog{}}
	sim := simtest.Serve(t, simtest.Setup{Options: opt, StoreClock: r.Clock.Now,
		Front: func(s *crmsim.Server) http.Handler { r.Sim = s; return http.HandlerFunc(r.serve) }})
	r.Store = sim.Store
	var err error
	r.Client, err = crm.NewClient(crm.Config{BaseURL: sim.URL, Token: token, Concurrency: concurrency, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Client.Close)
	r.CP = NewCheckpoint(t, impl, r.Clock.Now, 0)
	return r
}

func (r *Rig) serve(w http.ResponseWriter, req *http.Request) {
	if r.Before != nil && r.Before(w, req) {
		return
	}
	what := WriteOf(req)
	if what == "" {
		r.Sim.ServeHTTP(w, req)
		return
	}
	r.Writes.add("start " + what)
	r.Sim.ServeHTTP(&answerLogger{ResponseWriter: w, log: r.Writes, what: what}, req)
}

// Run plans rows against the checkpoint and applies the plan, recording
// through a writer that is closed before it returns. A guard of the plan
// fails the test.
func (r *Rig) Run(t *testing.T, rows []mapping.Row, popt plan.Options, aopt apply.Options) (*plan.Plan, *apply.Summary, error) {
	t.Helper()
	ctx := context.Background()
	p, err := plan.Build(ctx, plantest.Rows(rows...), r.CP, popt)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	w := r.CP.NewWriter(100, time.Hour)
	sum, applyErr := apply.Run(ctx, p, r.Client, w, aopt)
	if err := w.Close(); err != nil {
		t.Fatalf("record: %v", err)
	}
	return p, sum, applyErr
}

// Requests returns crmsim's count of an operation (as GET /_sim/stats
// shows it).
func (r *Rig) Requests(op string) int64 { return r.Sim.Stats()[op] }

// Count is the number of managed references.
func (r *Rig) Count(t *testing.T) int {
	t.Helper()
	n, err := r.CP.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Failures are the pending row failures.
func (r *Rig) Failures(t *testing.T) []state.Failure {
	t.Helper()
	fs, err := r.CP.Failures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// Settings of the tests: every failure and every delete allowed, deletes mirrored.
var (
	EveryFailure = plan.Limit{Percent: 100, IsPercent: true}
	EveryDelete  = plan.Optional{Limit: plan.Limit{Percent: 100, IsPercent: true}, Set: true}
	Mirror       = plan.Options{Deletes: policy.DeletesMirror, MaxDelete: EveryDelete}
)
