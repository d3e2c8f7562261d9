// Package simtest is crmsim as the tests start it: one fake clock, and
// one way to serve the simulator over loopback (127.0.0.1) until the end
// of a test. sync/internal/testrig builds its rig on it; cmd/erpsync,
// which cannot import an internal package of sync, uses it directly.
package simtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

// Clock is a test's clock: it moves when told (Advance, Set), or by a
// step at each reading (Stepping), or it is the real time plus an offset
// that Advance moves on (Ahead). Its zero value is not usable: make one
// with NewClock, Stepping or Ahead.
type Clock struct {
	mu     gosync.Mutex
	now    time.Time
	step   time.Duration // moved on at each reading
	real   bool          // the real time plus offset
	offset time.Duration
}

// NewClock returns a clock at at that moves only when told.
func NewClock(at time.Time) *Clock { return &Clock{now: at} }

// Stepping returns a clock at at that moves on by step at each reading:
// time passes with the work done (sessions end, dates differ) without
// the test waiting for it.
func Stepping(at time.Time, step time.Duration) *Clock { return &Clock{now: at, step: step} }

// Ahead returns the real time plus an offset that Advance moves on: a
// CRM's clock that a test moves ahead of the real one, e.g. to give a hand
// edit a lastUpdated of its own second without waiting for it.
func Ahead() *Clock { return &Clock{real: true} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		return time.Now().Add(c.offset)
	}
	c.now = c.now.Add(c.step)
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now, c.offset = c.now.Add(d), c.offset+d
	c.mu.Unlock()
}

// Set puts the clock at t (an Ahead clock: its offset, so that it reads t
// now and goes on with the real time).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now, c.offset = t, time.Until(t)
	c.mu.Unlock()
}

// Sim is crmsim served over loopback for a test.
type Sim struct {
	Server *crmsim.Server
	Store  *crmsim.Store
	URL    string // http://127.0.0.1:PORT, the base URL of a crm.Config
}

// Setup says what Serve starts; its zero value is the built-in seed and
// crmsim's defaults.
type Setup struct {
	Seed *crmsim.Seed // nil: crmsim.DefaultSeed()
	// Store, when set, is served instead of a new one of Seed: a store
	// the test filled on a clock of its own before serving it.
	Store   *crmsim.Store
	Options crmsim.Options
	// StoreClock, when set, dates the store's writes only (Options.Now
	// is the clock of sessions too).
	StoreClock func() time.Time
	// Front, when set, is the handler served, given the simulator: a
	// rate limit, a fault, a recorder in front of it.
	Front func(*crmsim.Server) http.Handler
}

// Start serves crmsim with its built-in seed and opts until the test's end.
func Start(tb testing.TB, opts crmsim.Options) *Sim {
	tb.Helper()
	return Serve(tb, Setup{Options: opts})
}

// Serve serves crmsim as s says until the test's end.
func Serve(tb testing.TB, s Setup) *Sim {
	tb.Helper()
	seed := crmsim.DefaultSeed()
	if s.Seed != nil {
		seed = *s.Seed
	}
	store := s.Store
	if store == nil {
		var err error
		if store, err = crmsim.NewStore(seed); err != nil {
			tb.Fatal(err)
		}
	}
	if s.StoreClock != nil {
		store.Now = s.StoreClock
	}
	sim := &Sim{Server: crmsim.New(store, s.Options), Store: store}
	var h http.Handler = sim.Server
	if s.Front != nil {
		h = s.Front(sim.Server)
	}
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	if !strings.HasPrefix(ts.URL, "http://127.0.0.1:") {
		tb.Fatalf("crmsim listens on %s, want 127.0.0.1", ts.URL)
	}
	sim.URL = ts.URL
	return sim
}
