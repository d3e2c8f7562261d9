package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// setConfig replaces old by new in the fixture's config.
func (f *serveFixture) setConfig(old, new string) {
	f.t.Helper()
	cfg, err := os.ReadFile(f.cfgPath)
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.Contains(string(cfg), old) {
		f.t.Fatalf("the config has no %q", old)
	}
	if err := os.WriteFile(f.cfgPath, []byte(strings.Replace(string(cfg), old, new, 1)), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// Issue 21 §15: an export stopped by a guard stayed in the inbox and was
// retried at every tick with the same error, and a newer one dropped
// after it was not taken. It is held now: moved to archive_dir/held/
// with its reason, /healthz 503 naming it, until a newer export syncs
// or the operator runs `erpsync release`.
func TestServe_GuardHoldsExport(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	f.setConfig("max_delete: 30%", "max_delete: 1") // day 2 deletes 2
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 3*time.Minute)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "day 1 synced", func() bool { return len(archived(t, f.archive)) == 1 })

	f.drop("../../testdata/exports/day2.csv", "b-day2.csv", 2*time.Minute)
	held := filepath.Join(f.archive, "held")
	// Waited on what the probe says (the ledger), not on the files: the
	// hold is recorded before its move, and /healthz reads the ledger.
	waitFor(t, 20*time.Second, "/healthz 503 naming the held day 2", func() bool {
		code, body := healthz(addr)
		return code == 503 && strings.Contains(body, "b-day2.csv") && strings.Contains(body, "held")
	})
	waitFor(t, 20*time.Second, "day 2 in held/", func() bool { return len(archived(t, held)) == 2 })
	var why []byte
	for _, n := range archived(t, held) {
		if strings.HasSuffix(n, ".held.txt") {
			why, _ = os.ReadFile(filepath.Join(held, n))
		}
	}
	if !strings.Contains(string(why), "max_delete") || !strings.Contains(string(why), "erpsync release") {
		t.Errorf(".held.txt says %q", why)
	}
	waitTicks(t, &logs, 3) // two whole ticks or more: the held export is not run again
	if runs := f.runsOf(); len(runs) != 2 || runs[0].Status != state.StatusAborted {
		t.Fatalf("runs = %+v, want day 1 done and day 2 aborted once", runs)
	}
	var out, errOut lockedBuffer
	if code := NewMain(&out, &errOut).Run(context.Background(), []string{"status", "-config", f.cfgPath}); code != ExitOK ||
		!strings.Contains(out.String(), "Held exports (1)") || !strings.Contains(out.String(), "b-day2.csv") {
		t.Errorf("status: exit %d\n%s%s", code, out.String(), errOut.String())
	}

	// A newer export is taken, and its sync lets the held one go.
	f.drop("../../testdata/exports/day1.csv", "c-day1.csv", time.Minute)
	waitFor(t, 20*time.Second, "the newer export synced", func() bool { return len(archived(t, f.archive)) == 2 })
	waitFor(t, 10*time.Second, "/healthz 200", func() bool { code, _ := healthz(addr); return code == 200 })

	// Held again; the operator lets it go.
	f.drop("../../testdata/exports/day2.csv", "d-day2.csv", 30*time.Second)
	waitFor(t, 20*time.Second, "/healthz 503 naming d-day2.csv", func() bool {
		code, body := healthz(addr)
		return code == 503 && strings.Contains(body, "d-day2.csv")
	})
	waitFor(t, 20*time.Second, "d-day2 in held/", func() bool { return len(archived(t, held)) == 4 })
	out, errOut = lockedBuffer{}, lockedBuffer{}
	if code := NewMain(&out, &errOut).Run(context.Background(), []string{"release", "-config", f.cfgPath, "d-day2.csv"}); code != ExitOK ||
		!strings.Contains(out.String(), "d-day2.csv") {
		t.Fatalf("release: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	waitFor(t, 10*time.Second, "/healthz 200 after the release", func() bool { code, _ := healthz(addr); return code == 200 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if runs := f.runsOf(); len(runs) != 4 {
		t.Errorf("%d runs, want 4 (a-day1, b-day2, c-day1, d-day2, each once)", len(runs))
	}
}

// Issue 21 §15: exports are whole snapshots. With several files waiting,
// the newest is synced and the older ones are archived as superseded:
// one tick, one run, not one per file.
func TestServe_NewestSupersedes(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	f.drop("../../testdata/exports/day1.csv", "x1.csv", 3*time.Minute)
	f.drop("../../testdata/exports/day2.csv", "x2.csv", 2*time.Minute)
	f.drop("../../testdata/exports/day1.csv", "x3.csv", time.Minute)
	var logs lockedBuffer
	_, stop := f.serve(&logs)
	superseded := filepath.Join(f.archive, "superseded")
	waitFor(t, 20*time.Second, "x3 synced, x1 and x2 superseded", func() bool {
		return len(archived(t, f.archive)) == 1 && len(archived(t, superseded)) == 2
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	runs := f.runsOf()
	if len(runs) != 1 || !strings.HasSuffix(runs[0].File, "x3.csv") || runs[0].Status != state.StatusDone {
		t.Errorf("runs = %+v, want x3.csv alone, done", runs)
	}
	if got := crmValues(f.store); got != day1Values {
		t.Errorf("CRM: %s, want day 1's %s", got, day1Values)
	}
}

// Issue 26 §8: serve was OOM-killed three times in a row on the same
// export and never went past it. An attempt is recorded before its run
// starts: an export whose runs did not end twice (an attempt left by a
// dead process, here written as it would be) is rejected without a run
// at the next start, with its reason, and later exports go on.
func TestServe_PoisonPillRejected(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	bomb := f.drop("../../testdata/exports/day1.csv", "bomb.csv", 2*time.Minute)
	data, _ := os.ReadFile(bomb)
	sum := sha256.Sum256(data)
	ledger := fmt.Sprintf(`{"attempt": {"source": %q, "sha256": %q, "starts": 2, "last": "2026-03-01T02:00:00Z"}}`,
		bomb, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(f.state+".serve.json", []byte(ledger), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	rejected := filepath.Join(f.archive, "rejected")
	if why := rejectedWith(t, 20*time.Second, rejected); !strings.Contains(why, "did not finish twice") {
		t.Errorf(".error.txt says %q", why)
	}
	waitFor(t, 10*time.Second, "/healthz 503 saying why", func() bool {
		code, body := healthz(addr)
		return code == 503 && strings.Contains(body, "did not finish twice")
	})
	if st := f.sim.Stats(); st[crm.OpUpsert]+st[crm.OpDeleteByReference] != 0 {
		t.Errorf("the bomb was run: %v", st)
	}
	f.drop("../../testdata/exports/day2.csv", "newer.csv", time.Minute)
	waitFor(t, 20*time.Second, "the newer export synced", func() bool { return len(archived(t, f.archive)) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	runs := f.runsOf()
	if len(runs) != 2 || runs[1].Status != state.StatusFailed || !strings.Contains(runs[1].Error, "did not finish twice") ||
		!strings.HasSuffix(runs[0].File, "newer.csv") || runs[0].Status != state.StatusDone {
		t.Errorf("runs = %+v, want the bomb failed without a run, then newer.csv done", runs)
	}
}

// Review of the merges, point 3: with day1 (good) and day2 (a bad
// header) waiting, day1 was archived as superseded before day2 was run,
// then day2 was rejected: nothing synced. Older exports are superseded
// only once the newest's run went through: day2 is rejected, and day1
// is synced after it.
func TestServe_UnusableNewestDoesNotSupersede(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 3*time.Minute)
	bad := filepath.Join(f.inbox, "b-day2.csv")
	if err := os.WriteFile(bad, []byte("this is not,an export\nat all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(bad, old, old); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	_, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "a-day1 synced and archived", func() bool { return len(archived(t, f.archive)) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := archived(t, filepath.Join(f.archive, "superseded")); len(got) != 0 {
		t.Errorf("superseded = %v, want nothing (day2 never went through)", got)
	}
	if got := archived(t, filepath.Join(f.archive, "rejected")); len(got) != 2 || !strings.HasPrefix(got[0], "b-day2.") {
		t.Errorf("rejected = %v, want b-day2 and its .error.txt", got)
	}
	runs := f.runsOf()
	if len(runs) != 2 || !strings.HasSuffix(runs[0].File, "a-day1.csv") || runs[0].Status != state.StatusDone ||
		!strings.HasSuffix(runs[1].File, "b-day2.csv") {
		t.Errorf("runs = %+v, want b-day2 rejected, then a-day1 done", runs)
	}
	if got := crmValues(f.store); got != day1Values {
		t.Errorf("CRM: %s, want day 1's %s", got, day1Values)
	}
}
