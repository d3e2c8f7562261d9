// Package ratelimit is crmsim's rate limit: a generic cell rate algorithm
// (GCRA) that holds N requests over any second, N at once then one every
// 1/N s, with no burst saved up while idle. It knows nothing of HTTP;
// crmsim.RateLimit puts it in front of the simulator.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter takes requests at perSecond: each request taken moves the
// theoretical arrival time (tat) one interval later; a request arriving
// more than slack before it is refused.
type Limiter struct {
	now   func() time.Time
	every time.Duration // the interval a request takes up
	slack time.Duration // how far ahead of tat a request may arrive

	mu  sync.Mutex
	tat time.Time
}

// New returns a limiter of perSecond requests a second (perSecond >= 1);
// now nil is time.Now.
func New(perSecond int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	every := time.Second / time.Duration(perSecond)
	return &Limiter{now: now, every: every, slack: every * time.Duration(perSecond-1)}
}

// Take takes a request now and returns 0, or returns how long until one
// would be taken (and takes none).
func (l *Limiter) Take() time.Duration {
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
