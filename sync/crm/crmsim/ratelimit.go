package crmsim

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"erpsync/sync/crm/crmsim/ratelimit"
)

// OpThrottled is the key of /_sim/stats that counts the API requests
// refused by the rate limit (they reach no route, so no route counts them).
const OpThrottled = "429 rate limit"

// RateLimit puts a real CRM's rate limit in front of s: API requests
// (paths under /api/) beyond perSecond a second are answered 429
// too_many_requests, with a Retry-After of the whole seconds until one
// is taken again, and never reach s. The limit holds over any second: N
// requests at once, then one every 1/N s (no burst saved up while idle;
// package ratelimit). Logins, images and /_sim/stats are not limited.
// perSecond <= 0 is no limit (s itself); now nil is time.Now.
func RateLimit(s *Server, perSecond int, now func() time.Time) http.Handler {
	if perSecond <= 0 {
		return s
	}
	return &limited{sim: s, limit: ratelimit.New(perSecond, now)}
}

type limited struct {
	sim   *Server
	limit *ratelimit.Limiter
}

func (l *limited) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		l.sim.ServeHTTP(w, r)
		return
	}
	if wait := l.limit.Take(); wait > 0 {
		l.sim.count(OpThrottled)
		w.Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
		writeError(w, errThrottled())
		return
	}
	l.sim.ServeHTTP(w, r)
}
