package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// lockedBuffer is a bytes.Buffer safe for the logger's goroutines.
type lockedBuffer struct {
	mu  gosync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveFixture is a serve config over an inbox folder and a crmsim.
type serveFixture struct {
	t       *testing.T
	dir     string
	inbox   string
	archive string
	cfgPath string
	sim     *crmsim.Server
	store   *crmsim.Store // the CRM's customers, read by the tests
	state   string
	// now, when set, is the inbox's settle clock (ServeCommand.now).
	now func() time.Time
}

func newServeFixture(t *testing.T, opts crmsim.Options, extra string) *serveFixture {
	t.Helper()
	return newServeFixtureWith(t, simtest.Setup{Options: opts}, extra)
}

// newServeFixtureWith is newServeFixture over the crmsim that setup says.
func newServeFixtureWith(t *testing.T, setup simtest.Setup, extra string) *serveFixture {
	t.Helper()
	dir := t.TempDir()
	f := &serveFixture{t: t, dir: dir, inbox: filepath.Join(dir, "inbox"), archive: filepath.Join(dir, "archive"),
		state: filepath.Join(dir, "erpsync.db")}
	if err := os.MkdirAll(f.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	ts := simtest.Serve(t, setup)
	f.sim, f.store = ts.Server, ts.Store
	demo, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(demo)
	cfg = strings.Replace(cfg, "base_url: http://127.0.0.1:8085", "base_url: "+ts.URL, 1)
	cfg = strings.Replace(cfg, "path: testdata/exports/day*.csv", fmt.Sprintf("path: %s/*.csv\n  archive_dir: %s\n  settle: 200ms", f.inbox, f.archive), 1)
	cfg = strings.Replace(cfg, "path: erpsync.db", "path: "+f.state, 1)
	cfg = strings.Replace(cfg, "dir: reports", "dir: "+filepath.Join(dir, "reports"), 1)
	cfg += "schedule: \"@every 1s\"\nserve:\n  listen: 127.0.0.1:0\n  shutdown_timeout: 20s\n" + extra
	f.cfgPath = filepath.Join(dir, "erpsync.yaml")
	if err := os.WriteFile(f.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// drop copies an export into the inbox with a modification time age ago.
func (f *serveFixture) drop(src, name string, age time.Duration) string {
	f.t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		f.t.Fatal(err)
	}
	dest := filepath.Join(f.inbox, name)
	if err := os.WriteFile(dest, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(dest, at, at); err != nil {
		f.t.Fatal(err)
	}
	return dest
}

// testTick is how often a test's serve ticks: its config says
// "@every 1s", cron's shortest, and tests waited whole seconds for ticks.
const testTick = 25 * time.Millisecond

// serve runs `erpsync serve` until the returned stop is called; stop
// returns Run's error.
func (f *serveFixture) serve(stderr io.Writer) (addr string, stop func() error) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cmd := &ServeCommand{Stdout: io.Discard, Stderr: stderr, ready: func(a string) { ready <- a }, every: testTick,
		retryWait: func(int) time.Duration { return testTick }, now: f.now}
	go func() { done <- cmd.Run(ctx, []string{"-config", f.cfgPath}) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		f.t.Fatalf("serve ended at start: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		f.t.Fatal("serve did not start")
	}
	var once gosync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = fmt.Errorf("serve did not stop")
			}
		})
		return runErr
	}
	f.t.Cleanup(func() { _ = stop() })
	return addr, stop
}

// TestServe_TestTicks: a test's serve ticks every serveFixture.tick,
// not every second at best as cron's "@every 1s": each test that waits
// for serve's ticks waited whole seconds for them.
func TestServe_TestTicks(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 2, 0, 0, 500_000_000, time.UTC)
	cmd := &ServeCommand{every: testTick}
	s, err := cmd.schedule("@every 1s")
	if err != nil {
		t.Fatal(err)
	}
	if next := s.Next(at); !next.Equal(at.Add(testTick)) {
		t.Errorf("next tick at %s, want %s", next, at.Add(testTick))
	}
	if s, _ := (&ServeCommand{}).schedule("@every 1s"); !s.Next(at).Equal(at.Add(500 * time.Millisecond)) {
		t.Errorf("without a test's ticks: next %s, want the config's schedule (the next whole second)", s.Next(at))
	}
}

// waitFor polls cond every 10 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// waitTicks waits until serve's cron has started n more ticks than it
// had (its "cron: run" lines in logs): n ticks pass without a sleep that
// guesses how long they take.
func waitTicks(t *testing.T, logs *lockedBuffer, n int) {
	t.Helper()
	from := strings.Count(logs.String(), "cron: run")
	waitFor(t, 20*time.Second, fmt.Sprintf("%d ticks", n), func() bool {
		return strings.Count(logs.String(), "cron: run") >= from+n
	})
}

// rejectedWith waits (d at most) until dir holds a rejected export and
// its .error.txt, written: the file is created, then written, and a
// reader between the two sees it empty. It returns the reason.
func rejectedWith(t *testing.T, d time.Duration, dir string) string {
	t.Helper()
	var why string
	waitFor(t, d, "an export rejected with its reason", func() bool {
		names := archived(t, dir)
		for _, n := range names {
			if strings.HasSuffix(n, ".error.txt") {
				data, _ := os.ReadFile(filepath.Join(dir, n))
				why = string(data)
			}
		}
		return len(names) == 2 && why != ""
	})
	return why
}

func archived(t *testing.T, dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		// A source's Put in progress (its temporary, renamed when whole) is
		// not there yet: counted, it let a wait for ".held.txt" end before
		// the file had its name (TestServe_GuardHoldsExport, 2 runs of 8).
		inProgress := strings.HasPrefix(e.Name(), ".erpsync-") && strings.HasSuffix(e.Name(), ".tmp")
		if !e.IsDir() && !inProgress {
			names = append(names, e.Name())
		}
	}
	return names
}

// Exports dropped one after the other are synced in turn. (Dropped
// together, the newest alone is: TestServe_NewestSupersedes.)
func TestServe_InboxInOrder(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 2*time.Minute)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "day 1 archived", func() bool { return len(archived(t, f.archive)) == 1 })
	f.drop("../../testdata/exports/day2.csv", "b-day2.csv", time.Minute)
	waitFor(t, 20*time.Second, "two exports archived", func() bool { return len(archived(t, f.archive)) == 2 })
	// An export is archived before its run's metrics are counted: wait for both.
	waitFor(t, 20*time.Second, "two runs counted", func() bool {
		return scrape(t, addr)("erpsync_runs_total", map[string]string{"outcome": "done"}) >= 2
	})

	counter := scrape(t, addr) // /metrics, parsed with the Prometheus text parser
	if n := counter("erpsync_runs_total", map[string]string{"outcome": "done"}); n != 2 {
		t.Errorf("erpsync_runs_total{outcome=done} = %v, want 2", n)
	}
	if n := counter("erpsync_exports_total", map[string]string{"source": "local", "outcome": "done"}); n != 2 {
		t.Errorf("erpsync_exports_total{source=local,outcome=done} = %v, want 2", n)
	}
	if n := counter("erpsync_rows_total", map[string]string{"operation": "create", "outcome": "ok"}); n != 11 {
		t.Errorf("rows created = %v, want 11 (10 on day 1, 1 on day 2)", n)
	}
	if n := counter("erpsync_rows_total", map[string]string{"operation": "delete", "outcome": "ok"}); n != 2 {
		t.Errorf("rows deleted = %v, want 2", n)
	}
	if counter("erpsync_crm_request_duration_seconds", nil) < 0 {
		t.Error("no CRM latency histogram")
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes"} {
		if counter(name, nil) < 0 {
			t.Errorf("/metrics has no %s (the Go runtime collector)", name)
		}
	}
	if counter("erpsync_last_success_timestamp_seconds", nil) <= 0 {
		t.Error("last success time not set")
	}

	health, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(health.Body)
	health.Body.Close()
	if health.StatusCode != 200 || !strings.Contains(string(body), `"status":"done"`) || !strings.Contains(string(body), "b-day2.csv") {
		t.Errorf("/healthz = %d %s", health.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	db := sqlite.NewDB(f.state)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, _ := db.Runs(context.Background(), 10)
	if len(runs) != 2 || !strings.HasSuffix(runs[1].File, "a-day1.csv") || !strings.HasSuffix(runs[0].File, "b-day2.csv") {
		t.Errorf("runs = %+v, want a-day1 then b-day2", runs)
	}
	if n, _ := db.Count(context.Background()); n != 9 {
		t.Errorf("managed = %d, want 9 after day 2", n)
	}

	if got := crmValues(f.store); got != day2Values {
		t.Errorf("CRM after day 2: %s, want %s", got, day2Values)
	}

	// Issue 16 §2: content is not a file's identity. Day 1's bytes after
	// day 2 (a mistake) are synced again, and the CRM holds day 1's values.
	t.Run("day 1 again after day 2 is synced", func(t *testing.T) {
		f.drop("../../testdata/exports/day1.csv", "c-again.csv", time.Minute)
		var logs lockedBuffer
		_, stop := f.serve(&logs)
		waitFor(t, 20*time.Second, "day 1 again archived", func() bool { return len(archived(t, f.archive)) == 3 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		runs, _ := db.Runs(context.Background(), 10)
		if len(runs) != 3 || !strings.HasSuffix(runs[0].File, "c-again.csv") || runs[0].Status != state.StatusDone {
			t.Fatalf("runs = %+v, want c-again.csv synced third", runs)
		}
		if got := crmValues(f.store); got != day1Values {
			t.Errorf("CRM after day 1 again: %s, want day 1's %s", got, day1Values)
		}
		if n, _ := db.Count(context.Background()); n != 10 {
			t.Errorf("managed = %d, want day 1's 10", n)
		}
	})
	// The same file as the one synced last (name, size, sha256) is
	// passed over: archived, no run, nothing written.
	t.Run("the same file again is skipped", func(t *testing.T) {
		f.sim.ResetStats()
		f.drop("../../testdata/exports/day1.csv", "c-again.csv", time.Minute)
		var logs lockedBuffer
		_, stop := f.serve(&logs)
		waitFor(t, 10*time.Second, "the repeat archived", func() bool { return len(archived(t, f.archive)) == 4 })
		stop()
		if !strings.Contains(logs.String(), "already synced: the same file as the last run") {
			t.Errorf("log does not say the file was skipped:\n%s", logs.String())
		}
		if runs, _ := db.Runs(context.Background(), 10); len(runs) != 3 {
			t.Errorf("%d runs after the same file again, want 3", len(runs))
		}
		if st := f.sim.Stats(); st[crm.OpUpsert]+st[crm.OpDeleteByReference] != 0 {
			t.Errorf("the CRM was written to: %v", st)
		}
	})
}

// What day 1 and day 2 set apart in the CRM: C-1001's credit limit,
// C-1003's city, C-1006 and C-1008 (gone on day 2), C-1011 (new on day 2).
const (
	day1Values = "C-1001=5000 C-1003=Lyon C-1006=yes C-1008=yes C-1011=no"
	day2Values = "C-1001=7500 C-1003=Villeurbanne C-1006=no C-1008=no C-1011=yes"
)

// crmValues sums up the customers that day 1 and day 2 set apart.
func crmValues(store *crmsim.Store) string {
	var parts []string
	if c, ok := store.ByReference("C-1001"); ok && c.CreditLimit != nil {
		parts = append(parts, fmt.Sprintf("C-1001=%g", *c.CreditLimit))
	}
	if c, ok := store.ByReference("C-1003"); ok && c.BillingCity != nil {
		parts = append(parts, "C-1003="+*c.BillingCity)
	}
	for _, ref := range []string{"C-1006", "C-1008", "C-1011"} {
		_, ok := store.ByReference(ref)
		parts = append(parts, ref+"="+map[bool]string{true: "yes", false: "no"}[ok])
	}
	return strings.Join(parts, " ")
}

func TestServe_RejectsGarbage(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	garbage := filepath.Join(f.inbox, "garbage.csv")
	if err := os.WriteFile(garbage, []byte("this is not,an export\nat all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	os.Chtimes(garbage, old, old)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	rejected := filepath.Join(f.archive, "rejected")
	waitFor(t, 10*time.Second, "the garbage rejected", func() bool { return len(archived(t, rejected)) == 2 })
	// The last run did not go through: the worker says so to its probe.
	waitFor(t, 10*time.Second, "/healthz 503", func() bool {
		health, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(health.Body)
		health.Body.Close()
		return health.StatusCode == http.StatusServiceUnavailable &&
			strings.Contains(string(body), `"status":"failing"`) && strings.Contains(string(body), "NAME1")
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	names := archived(t, rejected)
	var why []byte
	for _, n := range names {
		if strings.HasSuffix(n, ".error.txt") {
			why, _ = os.ReadFile(filepath.Join(rejected, n))
		}
	}
	if !strings.Contains(string(why), "line 1: the header lacks the column \"NAME1\" (for name), \"KUNNR\" (for reference)") {
		t.Errorf(".error.txt says %q (files %v)", why, names)
	}
	st := f.sim.Stats()
	if st[crm.OpUpsert]+st[crm.OpDeleteByReference] != 0 {
		t.Errorf("the CRM was written to: %v", st)
	}
}

// TestServe_WaitsForGrowingFile: serve takes a file only once it stayed
// unchanged for source.settle. The inbox's clock is the test's
// (ServeCommand.now), and the file is written at the clock's time: the
// file grows while the clock passes settle since it was first seen, and
// is taken once it stayed unchanged that long since its last change,
// without the seconds of writing and settling the real clock took. A
// settle of 30 s: measured on the real clock, it would time out.
func TestServe_WaitsForGrowingFile(t *testing.T) {
	t.Parallel()
	const settle = 30 * time.Second
	f := newServeFixture(t, crmsim.Options{}, "")
	clock := simtest.NewClock(time.Now().Truncate(time.Second))
	f.now = clock.Now
	cfg, _ := os.ReadFile(f.cfgPath)
	os.WriteFile(f.cfgPath, []byte(strings.Replace(string(cfg), "settle: 200ms", "settle: 30s", 1)), 0o600)
	path := filepath.Join(f.inbox, "growing.csv")
	day1, _ := os.ReadFile("../../testdata/exports/day1.csv")
	var logs lockedBuffer
	_, stop := f.serve(&logs)
	// notTaken waits for a whole tick and checks that the file is still
	// in the inbox, and nothing was sent.
	notTaken := func(written int) {
		t.Helper()
		waitTicks(t, &logs, 2)
		_, err := os.Stat(path)
		if st := f.sim.Stats(); st[crm.OpUpsert] > 0 || err != nil {
			t.Fatalf("a file still being written was taken (%d of %d bytes written)", written, len(day1))
		}
	}
	// Three writes settle/2 apart, each seen by a tick: the last is
	// settle after the first.
	from := 0
	for _, to := range []int{200, 400, len(day1)} {
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fh.Write(day1[from:to])
		fh.Close()
		if err := os.Chtimes(path, clock.Now(), clock.Now()); err != nil {
			t.Fatal(err)
		}
		notTaken(to)
		clock.Advance(settle / 2)
		from = to
	}
	notTaken(len(day1)) // settle/2 unchanged
	clock.Advance(settle / 2)
	waitFor(t, 10*time.Second, "the settled file synced", func() bool { return len(archived(t, f.archive)) == 1 })
	stop()
	if !strings.Contains(logs.String(), "still changing") {
		t.Errorf("the log does not say it waited:\n%s", logs.String())
	}
	if st := f.sim.Stats(); st[crm.OpUpsert] != 10 {
		t.Errorf("upserts = %d, want 10", st[crm.OpUpsert])
	}
}

func TestServe_SkipsTickWhileRunning(t *testing.T) {
	t.Parallel()
	// Each answer takes two ticks (testTick): the run spans several.
	f := newServeFixture(t, crmsim.Options{Latency: 2 * testTick}, "")
	f.drop("../../testdata/exports/day1.csv", "day1.csv", time.Minute)
	var logs lockedBuffer
	_, stop := f.serve(&logs)
	waitFor(t, 30*time.Second, "the slow run archived", func() bool { return len(archived(t, f.archive)) == 1 })
	stop()
	if !strings.Contains(logs.String(), "cron: skip") {
		t.Errorf("no skipped tick in the log:\n%s", logs.String())
	}
}

func TestServe_GracefulShutdown(t *testing.T) {
	t.Parallel()
	// One upsert at a time, each 100 ms: the stop lands mid-run, the 8
	// upserts left take 800 ms. Only upserts are slow: with crmsim's
	// latency on every answer, the refresh's reads of both runs waited
	// too. (300 ms each and a timeout of 500 ms took 2.3 s.)
	f := newServeFixtureWith(t, simtest.Setup{Front: slowUpserts(100 * time.Millisecond)}, "")
	cfg, _ := os.ReadFile(f.cfgPath)
	// …and the shutdown timeout is short: the run is cancelled, cleanly.
	text := strings.Replace(string(cfg), "concurrency: 8", "concurrency: 1", 1)
	text = strings.Replace(text, "shutdown_timeout: 20s", "shutdown_timeout: 200ms", 1)
	os.WriteFile(f.cfgPath, []byte(text), 0o600)
	f.drop("../../testdata/exports/day1.csv", "day1.csv", time.Minute)
	var logs lockedBuffer
	_, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "the run under way", func() bool { return f.sim.Stats()[crm.OpUpsert] >= 2 })
	if err := stop(); err != nil {
		t.Fatalf("serve stopped with %v, want nil (exit 0)", err)
	}
	sent := f.sim.Stats()[crm.OpUpsert]
	db := sqlite.NewDB(f.state)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	recorded, _ := db.Count(context.Background())
	db.Close()
	if int64(recorded) != sent || recorded >= 10 {
		t.Errorf("checkpoint holds %d, the CRM acknowledged %d upserts (of 10)", recorded, sent)
	}

	// The next run sends only what was left, all at once (one at a time,
	// it waited for each in turn).
	if err := os.WriteFile(f.cfgPath, []byte(strings.Replace(text, "concurrency: 1", "concurrency: 8", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	f.sim.ResetStats()
	var out, errOut lockedBuffer
	code := NewMain(&out, &errOut).Run(context.Background(), []string{"run", "-config", f.cfgPath, "-file", "../../testdata/exports/day1.csv"})
	if code != ExitOK {
		t.Fatalf("rerun exit %d: %s", code, errOut.String())
	}
	if got := f.sim.Stats()[crm.OpUpsert]; got != int64(10-recorded) {
		t.Errorf("rerun sent %d upserts, want %d", got, 10-recorded)
	}
}

// slowUpserts is a front of crmsim that answers each upsert d late (or
// when its caller is gone), the other requests at once.
func slowUpserts(d time.Duration) func(*crmsim.Server) http.Handler {
	return func(s *crmsim.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/customers/reference/") {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
			s.ServeHTTP(w, r)
		})
	}
}

func TestServe_BadSchedule(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	cfg, _ := os.ReadFile(f.cfgPath)
	os.WriteFile(f.cfgPath, []byte(strings.Replace(string(cfg), `schedule: "@every 1s"`, `schedule: "61 * * * *"`, 1)), 0o600)
	var out, errOut bytes.Buffer
	code := NewMain(&out, &errOut).Run(context.Background(), []string{"serve", "-config", f.cfgPath})
	if code != ExitUsage || !strings.Contains(errOut.String(), `schedule "61 * * * *"`) {
		t.Errorf("exit %d, stderr %s", code, errOut.String())
	}
}

// Issue 21 §16: a time zone with no schedule after it made the cron
// parser panic with a goroutine dump. Every schedule is checked when the
// config is loaded: exit 2 naming the key, and no panic reaches the user.
func TestServe_ScheduleCheckedAtLoad(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	base, err := os.ReadFile(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"CRON_TZ=UTC", "TZ=Europe/Paris", "TZ=UTC\t0 2 * * *", "CRON_TZ=Nowhere/Land 0 2 * * *", "61 * * * *"} {
		t.Run(spec, func(t *testing.T) {
			quoted := strings.ReplaceAll(spec, "\t", `\t`)
			text := strings.Replace(string(base), `schedule: "@every 1s"`, `schedule: "`+quoted+`"`, 1)
			if err := os.WriteFile(f.cfgPath, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadConfig(f.cfgPath); err == nil || !strings.Contains(err.Error(), "schedule ") {
				t.Errorf("LoadConfig: err = %v, want one naming the schedule", err)
			}
			var out, errOut bytes.Buffer
			code := NewMain(&out, &errOut).Run(context.Background(), []string{"serve", "-config", f.cfgPath})
			if code != ExitUsage || !strings.Contains(errOut.String(), "schedule ") || strings.Contains(errOut.String(), "goroutine") {
				t.Errorf("serve: exit %d, stderr %s", code, errOut.String())
			}
		})
	}
}
