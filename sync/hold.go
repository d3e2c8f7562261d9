package sync

import "context"

// HoldLock takes the state lock for j as Run does (a stale lock of a gone
// process is taken over, and said in the log), for a command that writes
// the checkpoint beside Run (init -adopt); done gives it back.
func HoldLock(ctx context.Context, j Job) (done func(), err error) {
	lock, err := acquire(ctx, j)
	if err != nil {
		return nil, err
	}
	return func() { release(ctx, j, lock) }, nil
}
