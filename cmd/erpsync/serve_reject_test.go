package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/sync/crm/crmsim"
)

// Issue 26 follow-up §1: a file serve's inbox cannot copy, and never will
// (here listed over source.max_bytes on SFTP), is rejected: moved to
// archive_dir/rejected with its .error.txt, recorded as a failed run once,
// and the export dropped after it syncs. Before, serve failed on it at
// every tick and the exports after it waited.
func TestServe_UncopiableRejected(t *testing.T) {
	t.Parallel()
	r := sftpServe(t)
	r.keys += "  max_bytes: 100000\n"
	f := newServeFixture(t, crmsim.Options{}, "")
	f.setRemote(r)
	day1, err := os.ReadFile("../../testdata/exports/day1.csv")
	if err != nil {
		t.Fatal(err)
	}
	big := append([]byte{}, day1...)
	for len(big) < 150_000 {
		big = append(big, day1[bytes.IndexByte(day1, '\n')+1:]...)
	}
	r.put(t, "big.csv", big)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 30*time.Second, "big.csv rejected", func() bool { return len(r.list(t, "archive/rejected")) == 2 })
	r.put(t, "day1.csv", day1)
	waitFor(t, 30*time.Second, "day1.csv synced", func() bool {
		runs := f.runsOf()
		return len(runs) > 0 && runs[0].Status == state.StatusDone
	})
	// The run is recorded before serve's health: wait for it.
	waitFor(t, 10*time.Second, "/healthz 200", func() bool { code, _ := healthz(addr); return code == 200 })
	code, body := healthz(addr)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	runs := f.runsOf()
	if len(runs) != 2 || runs[1].Status != state.StatusFailed || !strings.HasSuffix(runs[1].File, "/inbox/big.csv") ||
		!strings.Contains(runs[1].Error, "max_bytes") || !strings.HasSuffix(runs[0].File, "/inbox/day1.csv") {
		t.Fatalf("runs = %+v, want big.csv failed (max_bytes) once, then day1.csv done", runs)
	}
	rejected := r.list(t, "archive/rejected")
	if len(rejected) != 2 || !strings.HasPrefix(rejected[0], "big.") || !strings.HasSuffix(rejected[1], ".error.txt") {
		t.Fatalf("rejected/ = %v, want big.csv and its .error.txt", rejected)
	}
	if txt, _ := os.ReadFile(filepath.Join(r.sftp.Root, "archive", "rejected", rejected[1])); !strings.Contains(string(txt), "max_bytes") {
		t.Errorf(".error.txt = %q, want the reason", txt)
	}
	if got := r.list(t, "inbox"); len(got) != 0 {
		t.Errorf("inbox = %v, want it empty", got)
	}
	if code != 200 {
		t.Errorf("/healthz = %d %s, want 200 once a later export synced", code, body)
	}
}
