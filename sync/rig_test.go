package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
)

// testClock is a clock that moves only when told: the CRM's and the
// checkpoint's timestamps differ by what the test says, not by how long
// it slept.
type testClock struct {
	mu  gosync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	// In the past: a listing's "changed since I started" pull brings
	// nothing back by accident.
	return &testClock{now: time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// writeLog is the order in which the CRM met the writes: "start POST ref"
// when a request arrives, "answer POST ref" when its status line is
// written (before any byte of the answer can reach the client).
type writeLog struct {
	mu      gosync.Mutex
	entries []string
}

func (l *writeLog) add(s string) {
	l.mu.Lock()
	l.entries = append(l.entries, s)
	l.mu.Unlock()
}

// index returns the position of an entry, or -1.
func (l *writeLog) index(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Index(l.entries, s)
}

// answerLogger logs the answer of a write when its status is written.
type answerLogger struct {
	http.ResponseWriter
	log  *writeLog
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

// writeOf returns "POST ref" or "DELETE ref" for an upsert or a delete by
// reference, else "".
func writeOf(r *http.Request) string {
	_, ref, ok := strings.Cut(r.URL.Path, "/customers/reference/")
	if !ok || (r.Method != http.MethodPost && r.Method != http.MethodDelete) {
		return ""
	}
	return r.Method + " " + ref
}

// rig is a crmsim over loopback, a client of it and a checkpoint on disk,
// both on one test clock.
type rig struct {
	sim    *crmsim.Server
	store  *crmsim.Store
	client *crm.Client
	db     *state.DB
	clock  *testClock
	writes *writeLog
	// before, when set, sees every request first and may answer it alone
	// (returning true).
	before func(w http.ResponseWriter, r *http.Request) bool
}

// newRig starts crmsim with opt and a client sending token, with no
// retries (a failure is final at once).
func newRig(t *testing.T, opt crmsim.Options, token string, concurrency int) *rig {
	t.Helper()
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{store: store, clock: newTestClock(), writes: &writeLog{}}
	store.Now = r.clock.Now
	r.sim = crmsim.New(store, opt)
	ts := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(ts.Close)
	r.client, err = crm.NewClient(crm.Config{BaseURL: ts.URL, Token: token, Concurrency: concurrency, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.client.Close)
	r.db = state.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
	r.db.Now = r.clock.Now
	if err := r.db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close() })
	return r
}

func (r *rig) serve(w http.ResponseWriter, req *http.Request) {
	if r.before != nil && r.before(w, req) {
		return
	}
	what := writeOf(req)
	if what == "" {
		r.sim.ServeHTTP(w, req)
		return
	}
	r.writes.add("start " + what)
	r.sim.ServeHTTP(&answerLogger{ResponseWriter: w, log: r.writes, what: what}, req)
}

// run plans rows against the checkpoint and applies the plan, recording
// through a writer that is closed before it returns. A guard of the plan
// fails the test.
func (r *rig) run(t *testing.T, rows []mapping.Row, popt plan.Options, aopt apply.Options) (*plan.Plan, *apply.Summary, error) {
	t.Helper()
	ctx := context.Background()
	p, err := plan.Build(ctx, plantest.Rows(rows...), r.db, popt)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	w := r.db.NewWriter(100, time.Hour)
	sum, applyErr := apply.Run(ctx, p, r.client, w, aopt)
	if err := w.Close(); err != nil {
		t.Fatalf("record: %v", err)
	}
	return p, sum, applyErr
}

// requests returns crmsim's count of an operation (as GET /_sim/stats
// shows it).
func (r *rig) requests(op string) int64 { return r.sim.Stats()[op] }

func (r *rig) count(t *testing.T) int {
	t.Helper()
	n, err := r.db.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *rig) failures(t *testing.T) []state.Failure {
	t.Helper()
	fs, err := r.db.Failures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

var (
	everyFailure = plan.Limit{Percent: 100, IsPercent: true}
	everyDelete  = plan.Limit{Percent: 100, IsPercent: true}
	mirror       = plan.Options{Deletes: plan.DeletesMirror, MaxDelete: everyDelete}
)
