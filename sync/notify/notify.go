package notify

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"erpsync/state"
	"erpsync/sync"
)

// Notifier delivers the notify: section's webhooks and heartbeat. A nil
// Notifier, or one of an empty section, sends nothing.
type Notifier struct {
	cfg      Config
	secrets  []string // by webhook; "" unsigned
	log      *zap.Logger
	client   *http.Client
	failures atomic.Int64
	// Now is the clock of the messages' time and the signatures'
	// timestamps (tests may set it).
	Now func() time.Time
	// Pause, when set, is how a delivery waits d between its tries, or
	// ctx's end (tests: the backoff asked, not waited); nil waits on a
	// timer. No config key sets it.
	Pause func(ctx context.Context, d time.Duration) error
}

// New returns the Notifier of a validated section. It reads the secrets'
// variables: one unset or empty is an error naming its key.
func New(c Config, log *zap.Logger) (*Notifier, error) {
	secrets, err := c.secrets()
	if err != nil {
		return nil, err
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Notifier{cfg: c, secrets: secrets, log: log, Now: time.Now,
		client: &http.Client{
			// A receiver's redirect is not followed: the body and its
			// signature go where the config says, or nowhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}, nil
}

// enabled says whether there is anything to deliver.
func (n *Notifier) enabled() bool {
	return n != nil && (len(n.cfg.Webhooks) > 0 || n.cfg.HeartbeatURL != "")
}

// Failures is how many deliveries failed (after their retries).
func (n *Notifier) Failures() int64 {
	if n == nil {
		return 0
	}
	return n.failures.Load()
}

// Collector is erpsync_notify_failures_total, for serve's /metrics.
func (n *Notifier) Collector() prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "erpsync_notify_failures_total",
		Help: "Webhook and heartbeat deliveries that failed after their retries (the runs went on).",
	}, func() float64 { return float64(n.Failures()) })
}

// End is how a run ended: what its notifications tell.
type End struct {
	Outcome     *sync.Outcome // nil when the run stopped before its start
	Err         error         // the run's error: its class decides the events
	Kind        string        // run | import
	Export      string        // where the export came from (passwords removed)
	Interrupted bool          // the run's context was cancelled
	Held        bool          // serve set its export aside
}

// Runs is what a Notifier asks of the checkpoint: its last runs, to know
// whether the run before this one failed (the event recovered).
type Runs interface {
	Runs(ctx context.Context, limit int) ([]state.Run, error)
}

// RunEnded delivers what the end of a run means to every receiver that
// subscribed to it, and pings the heartbeat. It returns when every
// delivery has ended, within the section's timeout, whatever the
// receivers do; failures are logged and counted, never returned.
func (n *Notifier) RunEnded(ctx context.Context, runs Runs, e End) {
	if !n.enabled() {
		return
	}
	// An interrupted run is told too: the deliveries have their own time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.Timeout)
	defer cancel()
	events := EventsOf(e, n.previousFailed(ctx, runs, e))
	var ds []delivery
	for _, ev := range events {
		ds = append(ds, n.webhooks(e, ev)...)
	}
	if hb := n.cfg.HeartbeatURL; hb != "" {
		if !sync.Finished(e.Err) || e.Interrupted {
			hb = trimSlash(hb) + "/fail"
		}
		ds = append(ds, delivery{what: "heartbeat", method: http.MethodGet, url: hb})
	}
	n.deliverAll(ctx, ds)
}

// EventsOf returns the events of a run's end, in AllEvents' order.
// previousFailed says the run recorded before it did not go through.
func EventsOf(e End, previousFailed bool) []string {
	class := sync.Classify(e.Err)
	through := sync.Finished(e.Err) && !e.Interrupted
	var out []string
	switch {
	case class == sync.ClassGuard:
		out = append(out, EventGuard)
	case !through:
		out = append(out, EventFailed)
	case class == sync.ClassRowFailures:
		out = append(out, EventPartial)
	}
	if e.Held {
		out = append(out, EventHeld)
	}
	if e.Outcome != nil && e.Outcome.Plan != nil && len(e.Outcome.Plan.Drift) > 0 {
		out = append(out, EventDrift)
	}
	if through && previousFailed {
		out = append(out, EventRecovered)
	}
	return out
}

// recoveredLookback bounds the runs previousFailed reads back.
const recoveredLookback = 50

// previousFailed reports whether a failure waits to be recovered from:
// looking back from this run (newest first, at most recoveredLookback
// runs), the first run that tells something is one that did not go
// through (failed, interrupted, or never ended). Runs that tell nothing
// are passed over: a guard stop (told by guard, never as failed: it is
// no failure to recover from) and a run of a kind that notifies nothing
// (init). A run or an import that went through ends the failure.
func (n *Notifier) previousFailed(ctx context.Context, runs Runs, e End) bool {
	if runs == nil {
		return false
	}
	var id int64
	if e.Outcome != nil {
		id = e.Outcome.RunID
	}
	last, err := runs.Runs(ctx, recoveredLookback)
	if err != nil {
		n.log.Warn("notify: read the last runs (the event recovered is not sent)", zap.Error(err))
		return false
	}
	for _, r := range last {
		switch {
		case r.ID == id || (id != 0 && r.ID > id):
		case r.Kind != string(sync.ModeRun) && r.Kind != string(sync.ModeImport):
		case r.Status == state.StatusAborted:
		default:
			return r.Status != state.StatusDone && r.Status != state.StatusDoneFailures
		}
	}
	return false
}

// webhooks returns the deliveries of one event to the receivers that
// subscribed to it.
func (n *Notifier) webhooks(e End, event string) []delivery {
	m := n.message(e, event)
	var out []delivery
	for i, w := range n.cfg.Webhooks {
		if !slices.Contains(w.Events, event) {
			continue
		}
		b, err := body(w.Format, m)
		if err != nil { // a Message always encodes; kept for the form
			n.log.Error("notify: encode the body", zap.String("event", event), zap.Error(err))
			continue
		}
		out = append(out, delivery{what: event, method: http.MethodPost, url: w.URL, body: b, secret: n.secrets[i]})
	}
	return out
}

// message is the JSON body of an event of a run's end.
func (n *Notifier) message(e End, event string) Message {
	m := Message{Event: event, Kind: e.Kind, Export: e.Export, ExitCode: int(sync.Classify(e.Err)),
		Status: sync.Status(e.Err, e.Interrupted), Reason: reason(e.Err), Time: n.Now().UTC().Truncate(time.Second)}
	if o := e.Outcome; o != nil {
		m.RunID, m.ReportDir = o.RunID, o.Dir
		if o.Status != "" {
			m.Status = o.Status
		}
		m.Counts = sync.RunCounts(o)
		if o.Plan != nil {
			m.Drift = len(o.Plan.Drift)
		}
	}
	return m
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
