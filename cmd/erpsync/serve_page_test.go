package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/notify"
)

// TestServe_PageAndHeld: serve's GET / shows the last runs and the held
// export; the held export sends its held and guard webhooks and the
// heartbeat's /fail; report files are served, nothing outside
// reports.dir is.
func TestServe_PageAndHeld(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false)
	clock := simtest.Ahead()
	f := newServeFixture(t, crmsim.Options{Now: clock.Now}, "notify:\n  heartbeat_url: "+rc.srv.URL+"/hb\n  webhooks:\n  - url: "+rc.srv.URL+
		"/hook\n    events: [held, guard, failed]\n    format: slack\n")
	f.setConfig("max_delete: 30%", "max_delete: 1") // day 2 deletes 2
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 3*time.Minute)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "day 1 synced", func() bool { return len(archived(t, f.archive)) == 1 })
	// A hand edit in the CRM, in a second of its own.
	clock.Advance(time.Second)
	if _, err := f.store.Put("C-1004", map[string]string{"name": xssName}); err != nil {
		t.Fatal(err)
	}
	f.drop("../../testdata/exports/day2.csv", "b-day2.csv", 2*time.Minute)
	var page string
	// The drift is shown once the run's end is told (after the hold).
	waitFor(t, 20*time.Second, "the page showing day 2 held and the drift", func() bool {
		code, body := pageGet(addr, "/")
		page = body
		return code == 200 && strings.Contains(body, `id="held"`) && strings.Contains(body, "b-day2.csv") && strings.Contains(body, `id="drift"`)
	})
	if !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") || strings.Contains(page, xssName) {
		t.Errorf("the hand-edited name is not shown escaped in the drift:\n%s", page)
	}
	dom := renderedDOM(t, "http://"+addr+"/")
	for _, want := range []string{`id="runs"`, "a-day1.csv", `id="held"`, "b-day2.csv", "&lt;img src=x onerror=alert(1)&gt;"} {
		if dom != "" && !strings.Contains(dom, want) {
			t.Errorf("the page rendered in Chromium lacks %q", want)
		}
	}
	if strings.Contains(dom, "<img") {
		t.Error("the customer's name became an element in Chromium")
	}
	if code, body := pageGet(addr, "/metrics"); code != 200 || !strings.Contains(body, "erpsync_notify_failures_total 0") {
		t.Errorf("/metrics: %d, no erpsync_notify_failures_total 0", code)
	}
	waitFor(t, 10*time.Second, "the held webhook", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.got) >= 4 // day 1's heartbeat; day 2's held, guard and /hb/fail
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "the export is held") && !strings.Contains(line, `"run_id": 2`) {
			t.Errorf("serve's line after the run lacks its run_id: %s", line)
		}
	}
	got := rc.take()
	var texts []string
	for _, r := range got {
		texts = append(texts, r.path+" "+string(r.body))
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"/hb ", "/hb/fail", ": held (aborted)", ": guard (aborted)", "b-day2.csv"} {
		if !strings.Contains(all, want) {
			t.Errorf("the receiver got no %q:\n%s", want, all)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d requests, want 4:\n%s", len(got), all)
	}
}

func pageGet(addr, path string) (int, string) {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServe_NoRunNotified: an export rejected without a run (its runs did
// not end twice) is told as failed; the next export that syncs, as
// recovered.
func TestServe_NoRunNotified(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false)
	f := newServeFixture(t, crmsim.Options{}, "notify:\n  webhooks:\n  - url: "+rc.srv.URL+"/hook\n    events: [failed, recovered]\n")
	bomb := f.drop("../../testdata/exports/day1.csv", "bomb.csv", 2*time.Minute)
	data, _ := os.ReadFile(bomb)
	sum := sha256.Sum256(data)
	ledger := fmt.Sprintf(`{"attempt": {"source": %q, "sha256": %q, "starts": 2, "last": "2026-03-01T02:00:00Z"}}`,
		bomb, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(f.state+".serve.json", []byte(ledger), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	_, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "the failed webhook", func() bool { rc.mu.Lock(); defer rc.mu.Unlock(); return len(rc.got) >= 1 })
	f.drop("../../testdata/exports/day2.csv", "newer.csv", time.Minute)
	waitFor(t, 20*time.Second, "the recovered webhook", func() bool { rc.mu.Lock(); defer rc.mu.Unlock(); return len(rc.got) >= 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range rc.take() {
		var m notify.Message
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		events = append(events, m.Event+" "+m.Export)
	}
	if len(events) != 2 || !strings.HasPrefix(events[0], "failed ") || !strings.HasSuffix(events[0], "bomb.csv") ||
		!strings.HasPrefix(events[1], "recovered ") || !strings.HasSuffix(events[1], "newer.csv") {
		t.Errorf("events %q, want failed bomb.csv then recovered newer.csv", events)
	}
}

const xssName = `<img src=x onerror=alert(1)>`

// renderedDOM loads url in headless Chromium and returns its DOM; ""
// (logged) where Chromium is absent.
func renderedDOM(t *testing.T, url string) string {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Log("no Chromium on this machine (.ci/run installs Debian's chromium): the page was checked as text only")
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=2000", "--dump-dom", url).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(dom)
}
