package main

import (
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

// TestE2E_Unlock: a lock left by a run of another host stops the next run
// with a message that says what to do; status shows it; unlock frees it
// with -force while its holder may still run, and at once when its
// holder has not renewed it for a long time.
func TestE2E_Unlock(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	if code, _, errOut := e.run("init"); code != ExitOK {
		t.Fatalf("init: %d %s", code, errOut)
	}
	lockBy := func(heartbeat time.Time) {
		t.Helper()
		raw, err := sql.Open("sqlite3", e.state)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Exec(`INSERT INTO lock (id, pid, host, kind, since, pid_start, heartbeat) VALUES (1, 7, 'pod-elsewhere', 'serve', ?, 0, ?)`,
			time.Now().Add(-time.Hour).Unix(), heartbeat.Unix()); err != nil {
			t.Fatal(err)
		}
	}

	lockBy(time.Now())
	code, _, errOut := e.run("run", "-file", day1)
	if code != ExitFatal || !strings.Contains(errOut, "pid 7 on pod-elsewhere") || !strings.Contains(errOut, "erpsync unlock") {
		t.Fatalf("run on a locked file: %d %q", code, errOut)
	}
	if code, out, _ := e.run("status"); code != ExitOK || !strings.Contains(out, "Locked by serve (pid 7 on pod-elsewhere)") {
		t.Errorf("status does not show the lock: %d %q", code, out)
	}
	if code, _, errOut := e.run("unlock"); code != ExitFatal || !strings.Contains(errOut, "-force") {
		t.Errorf("unlock of a holder that may still run: %d %q, want a refusal naming -force", code, errOut)
	}
	if code, out, errOut := e.run("unlock", "-force"); code != ExitOK || !strings.Contains(out, "freed") {
		t.Fatalf("unlock -force: %d %q %q", code, out, errOut)
	}
	if code, out, _ := e.run("unlock"); code != ExitOK || !strings.Contains(out, "is not locked") {
		t.Errorf("unlock of a free file: %d %q", code, out)
	}
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("run after unlock: %d %q", code, errOut)
	}

	// A holder running on this host is never freed, not even with -force.
	if code, _, errOut := e.run("unlock", "-force"); code != ExitOK {
		t.Fatalf("unlock -force of a free file: %d %q", code, errOut)
	}
	host, _ := os.Hostname()
	holder := exec.Command("sleep", "60") // a live process of this host holds it
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	raw, err := sql.Open("sqlite3", e.state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO lock (id, pid, host, kind, since, pid_start, heartbeat) VALUES (1, ?, ?, 'serve', ?, 0, ?)`,
		holder.Process.Pid, host, time.Now().Unix(), time.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if code, _, errOut := e.run("unlock", "-force"); code != ExitFatal || !strings.Contains(errOut, "running on this host") {
		t.Errorf("unlock -force of a holder running here: %d %q, want a refusal", code, errOut)
	}
	raw, _ = sql.Open("sqlite3", e.state)
	raw.Exec(`DELETE FROM lock`)
	raw.Close()

	lockBy(time.Now().Add(-time.Hour))
	if code, out, errOut := e.run("unlock"); code != ExitOK || !strings.Contains(out, "freed") {
		t.Errorf("unlock of a holder silent for an hour: %d %q %q", code, out, errOut)
	}
}
