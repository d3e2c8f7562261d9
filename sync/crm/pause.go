package crm

import (
	"context"
	"time"
)

// Pause waits d before a call's next attempt (a backoff, a 429's
// Retry-After), or returns ctx's error when it ends first. Config.Pause
// replaces the client's own, a timer, in tests: a retry's wait is then
// answered without waiting, and what was asked is still counted against
// MaxThrottleWait. Production leaves it nil; no config key sets it.
type Pause func(ctx context.Context, d time.Duration) error

// pause waits d as Config.Pause says, or on a timer.
func (c *Client) pause(ctx context.Context, d time.Duration) error {
	if c.cfg.Pause != nil {
		return c.cfg.Pause(ctx, d)
	}
	return sleep(ctx, d)
}
