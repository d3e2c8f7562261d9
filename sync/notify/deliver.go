package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	gosync "sync"
	"time"

	"go.uber.org/zap"
)

// delivery is one request: an event to a webhook, or the heartbeat.
type delivery struct {
	what   string // the event, or "heartbeat"
	method string
	url    string
	body   []byte
	secret string // "" unsigned
}

// deliverAll sends every delivery at once and waits for them all; ctx
// bounds them (the section's timeout).
func (n *Notifier) deliverAll(ctx context.Context, ds []delivery) {
	var wg gosync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.deliver(ctx, d); err != nil {
				n.failures.Add(1)
				n.log.Warn("notify: delivery failed (the run is not affected)",
					zap.String("event", d.what), zap.String("receiver", redact(d.url)), zap.Error(err))
				return
			}
			n.log.Debug("notify: delivered", zap.String("event", d.what), zap.String("receiver", redact(d.url)))
		}()
	}
	wg.Wait()
}

// Backoff between tries: backoffBase, doubled each time, at most backoffMax.
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 4 * time.Second
)

// deliver tries a delivery, and again after a network error, a 429 or a
// 5xx answer, up to the section's retries, while ctx lasts.
func (n *Notifier) deliver(ctx context.Context, d delivery) error {
	wait := backoffBase
	for attempt := 0; ; attempt++ {
		retry, err := n.try(ctx, d)
		if err == nil {
			return nil
		}
		if !retry || attempt >= n.cfg.Retries {
			return fmt.Errorf("%d tries: %w", attempt+1, err)
		}
		if n.pause(ctx, wait) != nil {
			return fmt.Errorf("%d tries, then out of time (notify.timeout): %w", attempt+1, err)
		}
		wait = min(2*wait, backoffMax)
	}
}

// pause waits d before a delivery's next try, or returns ctx's error.
func (n *Notifier) pause(ctx context.Context, d time.Duration) error {
	if n.Pause != nil {
		return n.Pause(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// try sends a delivery once; retry says whether another try may succeed.
// Its error names no URL (a webhook's path may be its secret).
func (n *Notifier) try(ctx context.Context, d delivery) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, d.method, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false, errors.New("the request cannot be made of the URL")
	}
	req.Header.Set("User-Agent", "erpsync")
	if d.body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderEvent, d.what)
	}
	if d.secret != "" {
		ts := n.Now().Unix()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(HeaderSignature, Sign(d.secret, ts, d.body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return ctx.Err() == nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c >= 300 && c < 400:
		return false, fmt.Errorf("answered %d, a redirect: not followed (set the receiver's final URL)", c)
	case c == http.StatusTooManyRequests || c >= 500:
		return true, fmt.Errorf("answered %d", c)
	default:
		return false, fmt.Errorf("answered %d", c)
	}
}
