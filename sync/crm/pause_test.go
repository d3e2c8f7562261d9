package crm_test

import (
	"context"
	"errors"
	gosync "sync"
	"time"
)

// pauses is a crm.Pause that waits for nothing and keeps what was asked.
// It refuses a 100th wait: a client whose bounds broke ends, not loops.
type pauses struct {
	mu    gosync.Mutex
	waits []time.Duration
}

func (p *pauses) pause(ctx context.Context, d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waits) >= 99 {
		return errors.New("test pause: a 100th wait asked")
	}
	p.waits = append(p.waits, d)
	return ctx.Err()
}

// asked returns the waits asked so far.
func (p *pauses) asked() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.waits...)
}
