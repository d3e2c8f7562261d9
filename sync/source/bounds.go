package source

// The bounds of a remote copy and of a listing: what a store that is
// slow, endless or hostile can cost a run.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// DefaultStallTimeout is source.stall_timeout when unset: a transfer that
// moves no byte this long is cut (and tried again, bounded), a listing
// page or a HEAD that gets no answer this long fails.
const DefaultStallTimeout = 2 * time.Minute

// DefaultMaxBytes is source.max_bytes when unset (the mapping's too): a
// remote file listed larger is not copied.
const DefaultMaxBytes = 4 << 30

func maxBytesOf(cfg Settings) int64 {
	if cfg.MaxBytes > 0 {
		return cfg.MaxBytes
	}
	return DefaultMaxBytes
}

// checkListedSize refuses a file listed larger than source.max_bytes
// before any byte of it is copied (exit 2).
func checkListedSize(st Store, e Entry) error {
	s, ok := st.(interface{ maxBytes() int64 })
	if !ok || e.Size <= s.maxBytes() {
		return nil
	}
	return configError(Locate(st, e.Name), fmt.Errorf("listed at %d bytes, larger than source.max_bytes (%d): not copied", e.Size, s.maxBytes()))
}

// errStalled is a transfer cut for moving no byte for stall_timeout.
var errStalled = errors.New("stalled: no byte moved")

func stallAfter(cfg Settings) time.Duration {
	if cfg.StallTimeout > 0 {
		return cfg.StallTimeout
	}
	return DefaultStallTimeout
}

// stallTimeout is a store's source.stall_timeout.
func stallTimeout(st Store) time.Duration {
	if s, ok := st.(interface{ stallTimeout() time.Duration }); ok {
		return s.stallTimeout()
	}
	return DefaultStallTimeout
}

// watchdog cancels a transfer's context when no byte has moved for d: a
// stalled GET, a server that trickles (a whole SFTP packet never comes)
// or that fell silent with the connection up.
type watchdog struct {
	ctx    context.Context
	d      time.Duration
	t      *time.Timer
	cancel context.CancelCauseFunc
	bytes  atomic.Int64
}

func watch(ctx context.Context, d time.Duration) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{ctx: ctx, d: d, cancel: cancel}
	w.t = time.AfterFunc(d, func() { cancel(errStalled) })
	return ctx, w
}

// fed says n bytes moved: the watchdog waits d again.
func (w *watchdog) fed(n int) {
	if n > 0 {
		w.bytes.Add(int64(n))
		w.t.Reset(w.d)
	}
}

// fired reports whether the transfer was cut as stalled.
func (w *watchdog) fired() bool { return errors.Is(context.Cause(w.ctx), errStalled) }

func (w *watchdog) stop() {
	w.t.Stop()
	w.cancel(nil)
}

// fedReader feeds a watchdog with every byte read.
type fedReader struct {
	r   io.Reader
	dog *watchdog
}

func (f fedReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.dog.fed(n)
	return n, err
}
