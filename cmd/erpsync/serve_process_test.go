package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// Issue 26 §8, as systemd would live it: serve is killed (SIGKILL, as
// the OOM killer does) during a run of the same export twice; the third
// start rejects that export without a run ("did not finish twice") and
// syncs the newer one.
func TestProcess_ServeKilledTwiceRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Each killed start sends 10 upserts, the next wait for the kill: the
	// run is killed mid-way however loaded the machine, without a latency
	// that made each run ~5 s long. The third start finds the gate still
	// closed: an upsert a killed start sent just before its end, reaching
	// the handler only later, is held there, not counted as the third
	// start's; an upsert of the third start would be held too, its caller
	// alive (crm.timeout 2m), and drained would fail. The gate opens for
	// the newer export.
	gate := newUpsertGate(10)
	base := crmsimFor(t, crmsim.Options{}, gate.front)
	t.Cleanup(gate.release) // before crmsim's Close, which waits for held upserts
	inbox, archive := filepath.Join(dir, "inbox"), filepath.Join(dir, "archive")
	const rows = 200
	export, _, err := genexport.WriteFiles(t.TempDir(), genexport.Options{Rows: rows, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	// A request's timeout longer than drained's 30 s: an upsert of the
	// third start, held at the closed gate, stays held and drained fails.
	cfg := processConfig(t, dir, base, "concurrency: 8=concurrency: 1\n  timeout: 2m")
	text, _ := os.ReadFile(cfg)
	text = []byte(strings.Replace(string(text), "path: testdata/exports/day*.csv",
		"path: "+inbox+"/*.csv\n  archive_dir: "+archive+"\n  settle: 200ms", 1) +
		"schedule: \"@every 1s\"\nserve:\n  listen: 127.0.0.1:0\n")
	if err := os.WriteFile(cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}
	put := func(name string, age time.Duration) {
		p := filepath.Join(inbox, name)
		_ = os.MkdirAll(inbox, 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		_ = os.Chtimes(p, at, at)
	}
	serve := func() (*exec.Cmd, *bytes.Buffer) {
		waitBins(t)
		cmd := exec.Command(bins.erpsync, "serve", "-config", cfg)
		// Ticks every testTick, not each second at best: the tests'
		// erpsync reads the hook (testhooks.go).
		cmd.Env = append(os.Environ(), "ERPSYNC_TEST_TICK="+testTick.String())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		return cmd, &out
	}

	put("bomb.csv", 2*time.Minute)
	for i := range 2 {
		cmd, _ := serve()
		gate.wait(t, cmd)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		gate.drained(t)
		if n := simStats(t, base)[crm.OpUpsert]; n != int64(10*(i+1)) {
			t.Fatalf("start %d: %d upserts before the kill; the gate let %d through", i+1, n, 10*(i+1))
		}
		if i == 0 {
			gate.let(10)
		}
	}
	killed := simStats(t, base)[crm.OpUpsert]
	cmd, out := serve()
	rejected := filepath.Join(archive, "rejected")
	why := rejectedWith(t, 30*time.Second, rejected) // at the third start
	// Fails when the third start sent an upsert: held, its caller alive.
	gate.drained(t)
	if n := simStats(t, base)[crm.OpUpsert]; n != killed {
		t.Errorf("%d upserts at the third start went through a closed gate", n-killed)
	}
	gate.release()
	put("newer.csv", time.Minute)
	waitFor(t, 30*time.Second, "the newer export synced", func() bool { return len(archived(t, archive)) == 1 })
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve: %v\n%s", err, out)
	}
	if !strings.Contains(why, "did not finish twice") {
		t.Errorf(".error.txt says %q", why)
	}
	db := sqlite.NewDB(filepath.Join(dir, "erpsync.db"))
	if err := db.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, _ := db.Runs(t.Context(), 0)
	if len(runs) != 4 || runs[0].Status != state.StatusDone || !strings.HasSuffix(runs[0].File, "newer.csv") ||
		runs[1].Status != state.StatusFailed || !strings.Contains(runs[1].Error, "did not finish twice") {
		t.Errorf("runs = %+v, want two killed, the third rejected, newer.csv done", runs)
	}
	assertCRMMatches(t, base, filepath.Join(archive, archived(t, archive)[0]))
}
