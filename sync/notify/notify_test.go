package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/logging"
	"erpsync/sync/notify"
	"erpsync/sync/plan"
)

// hits counts the requests a handler got, by path, and keeps the bodies.
type hits struct {
	mu     gosync.Mutex
	n      map[string]int
	bodies [][]byte
}

func (h *hits) handler(answer func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		if h.n == nil {
			h.n = map[string]int{}
		}
		h.n[r.URL.Path]++
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		answer(w, r)
	})
}

func (h *hits) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[path]
}

// runs is a run history as the checkpoint's Runs gives it.
type runs []state.Run

func (r runs) Runs(context.Context, int) ([]state.Run, error) { return r, nil }

func newNotifier(t *testing.T, c notify.Config) (*notify.Notifier, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log, _ := logging.New(&logs, 0)
	n, err := notify.New(c, log)
	if err != nil {
		t.Fatal(err)
	}
	return n, &logs
}

func fatal(msg string) error { return sync.WithClass(sync.ClassFatal, errors.New(msg)) }

// TestNotifier_RedirectNotFollowed: a receiver that redirects is a failed
// delivery, logged without the URL's path and counted; its target gets
// nothing.
func TestNotifier_RedirectNotFollowed(t *testing.T) {
	var target, rdr hits
	to := httptest.NewServer(target.handler(func(http.ResponseWriter, *http.Request) {}))
	defer to.Close()
	from := httptest.NewServer(rdr.handler(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to.URL+"/stolen", http.StatusFound)
	}))
	defer from.Close()
	n, logs := newNotifier(t, notify.Config{Webhooks: []notify.Webhook{{URL: from.URL + "/hook/secret-path", Events: []string{notify.EventFailed}}}})
	n.RunEnded(context.Background(), nil, notify.End{Err: fatal("CRM unreachable"), Kind: "run"})
	if rdr.count("/hook/secret-path") != 1 || target.count("/stolen") != 0 {
		t.Errorf("receiver %d, redirect target %d: want 1 and 0", rdr.count("/hook/secret-path"), target.count("/stolen"))
	}
	if got := counterValue(t, n.Collector()); got != 1 {
		t.Errorf("erpsync_notify_failures_total %v, want 1", got)
	}
	if n.Failures() != 1 || strings.Contains(logs.String(), "secret-path") || !strings.Contains(logs.String(), "redirect") {
		t.Errorf("failures %d; logs:\n%s", n.Failures(), logs)
	}
}

// TestNotifier_RetriesBounded: a receiver answering 500 is tried
// 1 + retries times, then counted once; a 400 is not tried again.
func TestNotifier_RetriesBounded(t *testing.T) {
	var h hits
	srv := httptest.NewServer(h.handler(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	n, _ := newNotifier(t, notify.Config{Retries: 2, Webhooks: []notify.Webhook{
		{URL: srv.URL + "/down", Events: []string{notify.EventFailed}},
		{URL: srv.URL + "/bad", Events: []string{notify.EventFailed}},
	}})
	var mu gosync.Mutex
	var waits []time.Duration
	n.Pause = func(ctx context.Context, d time.Duration) error { // the backoff asked, not waited
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return ctx.Err()
	}
	n.RunEnded(context.Background(), nil, notify.End{Err: fatal("x"), Kind: "run"})
	if h.count("/down") != 3 || h.count("/bad") != 1 || n.Failures() != 2 {
		t.Errorf("tries /down %d (want 3), /bad %d (want 1); failures %d (want 2)", h.count("/down"), h.count("/bad"), n.Failures())
	}
	if want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}; !slices.Equal(waits, want) {
		t.Errorf("waits asked %v, want %v (a backoff doubled)", waits, want)
	}
}

// TestNotifier_Events: what each end sends, recovered only after a run
// that did not go through, and a Slack body for people.
func TestNotifier_Events(t *testing.T) {
	failed := runs{{ID: 1, Kind: "run", Status: state.StatusFailed}}
	good := runs{{ID: 1, Kind: "run", Status: state.StatusDone}}
	cases := []struct {
		name string
		end  notify.End
		prev runs
		want []string
	}{
		{"fatal", notify.End{Err: fatal("x")}, good, []string{"failed"}},
		{"guard held", notify.End{Err: sync.WithClass(sync.ClassGuard, errors.New("max_delete")), Held: true}, failed, []string{"guard", "held"}},
		{"partial after failure", notify.End{Err: sync.WithClass(sync.ClassRowFailures, errors.New("3 rows"))}, failed, []string{"partial", "recovered"}},
		{"done after done", notify.End{}, good, nil},
		{"drift", notify.End{Outcome: &sync.Outcome{RunID: 2, Plan: &plan.Plan{Drift: []plan.Drift{{Reference: "C-1", Deleted: true}}}}}, good, []string{"drift"}},
		{"interrupted", notify.End{Err: fatal("interrupted"), Interrupted: true}, failed, []string{"failed"}},
	}
	for _, c := range cases {
		var h hits
		srv := httptest.NewServer(h.handler(func(http.ResponseWriter, *http.Request) {}))
		n, _ := newNotifier(t, notify.Config{HeartbeatURL: srv.URL + "/hb", Webhooks: []notify.Webhook{
			{URL: srv.URL + "/slack", Events: notify.AllEvents, Format: notify.FormatSlack}}})
		n.RunEnded(context.Background(), c.prev, c.end)
		srv.Close()
		var got []string
		for _, b := range h.bodies {
			var m struct{ Text string }
			if err := json.Unmarshal(b, &m); err == nil && m.Text != "" {
				got = append(got, strings.Fields(strings.SplitN(m.Text, ": ", 2)[1])[0])
			}
		}
		slices.Sort(got) // delivered at once, in any order
		slices.Sort(c.want)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: events %v, want %v", c.name, got, c.want)
		}
		beat := "/hb"
		if c.end.Err != nil && sync.Classify(c.end.Err) != sync.ClassRowFailures || c.end.Interrupted {
			beat = "/hb/fail"
		}
		if h.count(beat) != 1 {
			t.Errorf("%s: heartbeat %s not called: %v", c.name, beat, h.n)
		}
	}
}

// TestNotifier_HungReceiverTimeout: the end waits for a hung receiver at
// most notify.timeout, then counts it.
func TestNotifier_HungReceiverTimeout(t *testing.T) {
	release := make(chan struct{})
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	n, _ := newNotifier(t, notify.Config{Timeout: 100 * time.Millisecond, Retries: 5, HeartbeatURL: srv.URL})
	n.RunEnded(context.Background(), nil, notify.End{})
	if n.Failures() != 1 || got.Load() != 1 {
		t.Errorf("failures %d, requests %d: want 1 and 1 (no try after the timeout)", n.Failures(), got.Load())
	}
}

func TestSign_Verify(t *testing.T) {
	body := []byte(`{"event":"failed"}`)
	sig := notify.Sign("k", 1700000000, body)
	if !notify.Verify("k", "1700000000", body, sig) || notify.Verify("k", "1700000001", body, sig) ||
		notify.Verify("k", "1700000000", append(body, ' '), sig) {
		t.Errorf("signature %s does not cover the timestamp and the body", sig)
	}
}

// counterValue reads a counter's value as /metrics would.
func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v %v", mfs, err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}
