package crmsim

import (
	"net/http"
	"strconv"
	"strings"
	gosync "sync"
	"time"
)

// OpThrottled is the key of /_sim/stats that counts the API requests
// refused by the rate limit (they reach no route, so no route counts them).
const OpThrottled = "429 rate limit"

// RateLimit puts a real CRM's rate limit in front of s: API requests
// (paths under /api/) beyond perSecond a second are answered 429
// too_many_requests, with a Retry-After of the whole seconds until one
// is taken again, and never reach s. The limit holds over any second: N
// requests at once, then one every 1/N s (no burst saved up while idle).
// Logins, images and /_sim/stats are not limited. perSecond <= 0 is no
// limit (s itself); now nil is time.Now.
func RateLimit(s *Server, perSecond int, now func() time.Time) http.Handler {
	if perSecond <= 0 {
		return s
	}
	if now == nil {
		now = time.Now
	}
	every := time.Second / time.Duration(perSecond)
	return &limiter{sim: s, now: now, every: every, slack: every * time.Duration(perSecond-1)}
}

// limiter is a generic cell rate algorithm: each request taken moves the
// theoretical arrival time (tat) one interval later; a request arriving
// more than slack before it is refused.
type limiter struct {
	sim   *Server
	now   func() time.Time
	every time.Duration // the interval a request takes up
	slack time.Duration // how far ahead of tat a request may arrive

	mu  gosync.Mutex
	tat time.Time
}

func (l *limiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		l.sim.ServeHTTP(w, r)
		return
	}
	if wait := l.take(); wait > 0 {
		l.sim.count(OpThrottled)
		w.Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
		writeError(w, errThrottled())
		return
	}
	l.sim.ServeHTTP(w, r)
}

// take takes a request now, or returns how long until one would be.
func (l *limiter) take() time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tat.Before(now) {
		l.tat = now
	}
	if ahead := l.tat.Sub(now); ahead > l.slack {
		return ahead - l.slack
	}
	l.tat = l.tat.Add(l.every)
	return 0
}
