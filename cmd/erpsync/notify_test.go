package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/notify"
)

// receiver is a webhook receiver on loopback that keeps what it got.
type receiver struct {
	mu   gosync.Mutex
	got  []received
	srv  *httptest.Server
	hang chan struct{} // when set, every request waits on it (a hung receiver)
}

// The notify tests' secret and CRM token, as most of them want them:
// set once for the package (t.Setenv forbids t.Parallel).
func init() {
	os.Setenv("H7_NOTIFY_SECRET", notifySecret)
	os.Setenv("H7_NOTIFY_CRM_TOKEN", "good-token")
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, hang bool) *receiver {
	t.Helper()
	rc := &receiver{}
	if hang {
		rc.hang = make(chan struct{})
	}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{path: r.URL.Path, header: r.Header.Clone(), body: b})
		rc.mu.Unlock()
		if rc.hang != nil {
			select {
			case <-rc.hang:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(rc.srv.Close)
	if hang {
		t.Cleanup(func() { close(rc.hang) }) // runs before Close: a hung handler lets go first
	}
	return rc
}

// take returns what the receiver got since the last call.
func (rc *receiver) take() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := rc.got
	rc.got = nil
	return got
}

const notifySecret = "s3cret-h7-never-logged"

// notifyConfig turns newE2E's config into one whose CRM wants a bearer
// token, with one signed webhook and a heartbeat on the receiver.
func notifyConfig(url, timeout string) func(string) string {
	return func(c string) string {
		c = strings.Replace(c, "auth: none", "auth: bearer", 1)
		c = strings.Replace(c, "token_env: CRM_TOKEN", "token_env: H7_NOTIFY_CRM_TOKEN", 1)
		return c + "\nnotify:\n  timeout: " + timeout + "\n  retries: 1\n  heartbeat_url: " + url + "/hb\n" +
			"  webhooks:\n  - url: " + url + "/hook/T000/B000/path-secret\n    events: [failed, recovered, partial, guard, drift]\n" +
			"    secret_env: H7_NOTIFY_SECRET\n"
	}
}

// TestNotify_FailedThenRecovered: after a good run, a run against a CRM
// that refuses the token sends one signed failed webhook whose signature
// verifies; the next good run sends recovered and pings the heartbeat;
// the secret is in no log, report or state.
func TestNotify_FailedThenRecovered(t *testing.T) {
	rc := newReceiver(t, false)
	e := newE2E(t, crmsim.Options{Token: "good-token"}, notifyConfig(rc.srv.URL, "5s"))
	t.Setenv("H7_NOTIFY_SECRET", notifySecret)
	t.Setenv("H7_NOTIFY_CRM_TOKEN", "good-token")
	code, _, stderr := e.run("run", "-file", day1)
	if code != ExitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	if hooks, beats := splitReceived(rc.take()); len(hooks) != 0 || len(paths(beats)) != 1 || beats[0].path != "/hb" {
		t.Fatalf("first run: %d webhooks, heartbeats %v; want none and /hb", len(hooks), paths(beats))
	}

	t.Setenv("H7_NOTIFY_CRM_TOKEN", "refused-token") // the token was revoked
	code, _, stderr = e.run("run", "-file", day1)
	if code != ExitFatal {
		t.Fatalf("refused token: exit %d, want %d\n%s", code, ExitFatal, stderr)
	}
	got := rc.take()
	hooks, beats := splitReceived(got)
	if len(hooks) != 1 || len(beats) != 1 || beats[0].path != "/hb/fail" {
		t.Fatalf("after the refused run: %d webhooks, heartbeats %v; want one failed webhook and /hb/fail", len(hooks), paths(beats))
	}
	msg := verifySigned(t, hooks[0])
	if msg.Event != notify.EventFailed || msg.Status != "failed" || msg.ExitCode != ExitFatal || msg.RunID == 0 ||
		msg.Reason == "" || msg.ReportDir == "" || !strings.HasSuffix(msg.Export, "day1.csv") {
		t.Errorf("failed message: %+v", msg)
	}

	t.Setenv("H7_NOTIFY_CRM_TOKEN", "good-token")
	code, _, stderr = e.run("run", "-file", day2)
	if code != ExitOK {
		t.Fatalf("good run: exit %d\n%s", code, stderr)
	}
	hooks, beats = splitReceived(rc.take())
	if len(hooks) != 1 || len(beats) != 1 || beats[0].path != "/hb" {
		t.Fatalf("after the good run: %d webhooks, heartbeats %v; want one recovered webhook and /hb", len(hooks), paths(beats))
	}
	if msg := verifySigned(t, hooks[0]); msg.Event != notify.EventRecovered || msg.Status != "done" || msg.Counts["update"] == 0 {
		t.Errorf("recovered message: %+v", msg)
	}
	assertNoSecret(t, e, stderr)
}

// TestNotify_HungReceiver: a receiver that never answers delays the run's
// end by at most notify.timeout: the run returns with its own outcome,
// the delivery is logged as failed.
//
// It reads the variables as init sets them for the package, in parallel:
// the tests that set others (t.Setenv) run alone, before it, and put
// them back.
func TestNotify_HungReceiver(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, true)
	e := newE2E(t, crmsim.Options{Token: "good-token"}, notifyConfig(rc.srv.URL, "300ms"))
	code, _, stderr := e.run("run", "-file", day1)
	if code != ExitOK {
		t.Fatalf("exit %d, want %d (the receiver changes no outcome)\n%s", code, ExitOK, stderr)
	}
	if !strings.Contains(stderr, "notify: delivery failed") || strings.Contains(stderr, "path-secret") {
		t.Errorf("the failed delivery is logged, without the webhook's path:\n%s", stderr)
	}
	if len(rc.take()) == 0 {
		t.Error("the hung receiver got nothing")
	}
}

// TestNotify_BadConfig: a webhook URL not http(s), an unknown event, an
// unset secret_env: exit 2 naming the key.
func TestNotify_BadConfig(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ section, want string }{
		"scheme": {"  webhooks:\n  - url: ftp://example.com/x\n    events: [failed]\n", "notify.webhooks[0].url"},
		"event":  {"  webhooks:\n  - url: http://127.0.0.1:1/x\n    events: [failed, exploded]\n", "notify.webhooks[0].events"},
		"secret": {"  webhooks:\n  - url: http://127.0.0.1:1/x\n    events: [failed]\n    secret_env: H7_UNSET_SECRET\n", "notify.webhooks[0].secret_env"},
		"beat":   {"  heartbeat_url: file:///etc/passwd\n", "notify.heartbeat_url"},
		"log":    {"  webhooks: []\nlog:\n  format: xml\n", "log.format"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each on a crmsim and a checkpoint of its own
			e := newE2E(t, crmsim.Options{}, func(cfg string) string { return cfg + "\nnotify:\n" + c.section })
			code, _, stderr := e.run("run", "-file", day1)
			if code != ExitUsage || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, want %d naming %s:\n%s", code, ExitUsage, c.want, stderr)
			}
		})
	}
}

func splitReceived(got []received) (hooks, beats []received) {
	for _, r := range got {
		if strings.HasPrefix(r.path, "/hb") {
			beats = append(beats, r)
		} else {
			hooks = append(hooks, r)
		}
	}
	return hooks, beats
}

func paths(rs []received) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.path)
	}
	return out
}

// verifySigned checks a webhook's signature as a receiver would (the
// README's recipe) and decodes its body.
func verifySigned(t *testing.T, r received) notify.Message {
	t.Helper()
	ts, sig := r.header.Get("X-Erpsync-Timestamp"), r.header.Get("X-Erpsync-Signature")
	if ts == "" || !strings.HasPrefix(sig, "sha256=") || !notify.Verify(notifySecret, ts, r.body, sig) {
		t.Fatalf("signature %q at %q does not verify over %s", sig, ts, r.body)
	}
	if notify.Verify("another secret", ts, r.body, sig) || notify.Verify(notifySecret, ts+"1", r.body, sig) {
		t.Fatal("the signature verifies with another secret or timestamp")
	}
	var m notify.Message
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return m
}

// assertNoSecret looks for the secret in the log, every report and the
// state (its WAL too).
func assertNoSecret(t *testing.T, e *e2e, logs string) {
	t.Helper()
	if strings.Contains(logs, notifySecret) {
		t.Error("the secret is in the log")
	}
	_ = filepath.WalkDir(e.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == e.cfg {
			return nil
		}
		if b, rerr := os.ReadFile(p); rerr == nil && strings.Contains(string(b), notifySecret) {
			t.Errorf("the secret is in %s", p)
		}
		return nil
	})
}

// TestNotify_RefusedBeforeCheckpoint: the first run, whose checkpoint
// cannot be created because the CRM refuses the token, is told too: one
// signed failed webhook (run 0: never recorded) and the heartbeat's /fail.
func TestNotify_RefusedBeforeCheckpoint(t *testing.T) {
	rc := newReceiver(t, false)
	e := newE2E(t, crmsim.Options{Token: "good-token"}, notifyConfig(rc.srv.URL, "5s"))
	t.Setenv("H7_NOTIFY_SECRET", notifySecret)
	t.Setenv("H7_NOTIFY_CRM_TOKEN", "refused-token")
	code, _, stderr := e.run("run", "-file", day1)
	if code != ExitFatal {
		t.Fatalf("exit %d, want %d\n%s", code, ExitFatal, stderr)
	}
	hooks, beats := splitReceived(rc.take())
	if len(hooks) != 1 || len(beats) != 1 || beats[0].path != "/hb/fail" {
		t.Fatalf("%d webhooks, heartbeats %v; want one failed webhook and /hb/fail", len(hooks), paths(beats))
	}
	if msg := verifySigned(t, hooks[0]); msg.Event != notify.EventFailed || msg.RunID != 0 || !strings.Contains(msg.Reason, "401") {
		t.Errorf("failed message: %+v", msg)
	}
}

// TestNotify_DryRunTellsNothing: a dry run, even one that fails, sends
// nothing.
func TestNotify_DryRunTellsNothing(t *testing.T) {
	rc := newReceiver(t, false)
	e := newE2E(t, crmsim.Options{Token: "good-token"}, notifyConfig(rc.srv.URL, "5s"))
	t.Setenv("H7_NOTIFY_SECRET", notifySecret)
	t.Setenv("H7_NOTIFY_CRM_TOKEN", "refused-token")
	if code, _, stderr := e.run("run", "-dry-run", "-file", day1); code != ExitFatal {
		t.Fatalf("exit %d, want %d\n%s", code, ExitFatal, stderr)
	}
	if got := rc.take(); len(got) != 0 {
		t.Errorf("a dry run sent %d requests: %v", len(got), paths(got))
	}
}
