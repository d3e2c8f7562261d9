package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync/crm/crmsim"
)

// healthz returns /healthz's status code and body ("" and 0 when it
// cannot be reached).
func healthz(addr string) (int, string) {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// setArchive points the fixture's archive_dir elsewhere.
func (f *serveFixture) setArchive(dir string) {
	f.t.Helper()
	cfg, err := os.ReadFile(f.cfgPath)
	if err != nil {
		f.t.Fatal(err)
	}
	text := strings.Replace(string(cfg), "archive_dir: "+f.archive, "archive_dir: "+dir, 1)
	if err := os.WriteFile(f.cfgPath, []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.archive = dir
}

// runsOf reads the run history of the fixture's state, newest first.
func (f *serveFixture) runsOf() []state.Run {
	f.t.Helper()
	db := sqlite.NewDB(f.state)
	if err := db.Open(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(context.Background(), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return runs
}

// Issue 16 §10: archive_dir on another file system than the inbox (here
// a tmpfs) stalled serve for good with "invalid cross-device link". The
// export is now archived there by copy, and the next one goes on.
func TestServe_ArchiveOnAnotherFileSystem(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	other, err := os.MkdirTemp("/dev/shm", "erpsync-archive-")
	if err != nil {
		t.Skipf("no /dev/shm (%v): the cross-device archive is not tested here", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(other) })
	probe := filepath.Join(f.inbox, "probe")
	_ = os.WriteFile(probe, nil, 0o644)
	if err := os.Rename(probe, filepath.Join(other, "probe")); !errors.Is(err, syscall.EXDEV) {
		t.Skipf("%s and /dev/shm are on the same file system (rename: %v): the cross-device archive is not tested here", f.inbox, err)
	}
	_ = os.Remove(probe)
	f.setArchive(filepath.Join(other, "archive"))
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 2*time.Minute)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "day 1 archived on the tmpfs", func() bool { return len(archived(t, f.archive)) == 1 })
	f.drop("../../testdata/exports/day2.csv", "b-day2.csv", time.Minute)
	waitFor(t, 20*time.Second, "both exports archived on the tmpfs", func() bool { return len(archived(t, f.archive)) == 2 })
	code, body := healthz(addr)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK {
		t.Errorf("/healthz = %d %s, want 200", code, body)
	}
	if left := archived(t, f.inbox); len(left) != 0 {
		t.Errorf("the inbox still holds %v", left)
	}
	if got := crmValues(f.store); got != day2Values {
		t.Errorf("CRM: %s, want day 2's %s", got, day2Values)
	}
	if strings.Contains(logs.String(), "cross-device") {
		t.Errorf("the log shows a cross-device error:\n%s", logs.String())
	}
}

// blockArchive makes archive_dir unusable: a read-only folder, or, when
// the tests run as root (whom permissions do not stop), a regular file
// where the folder should be. It returns what makes it usable again.
func blockArchive(t *testing.T, dir string) (unblock func()) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		return func() { _ = os.Chmod(dir, 0o755) }
	}
	t.Log("a read-only folder does not stop this user (root): a file stands where archive_dir should be")
	_ = os.Chmod(dir, 0o755)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() { _ = os.Remove(dir) }
}

// Issue 16 §10: an export synced but that cannot be archived is reported
// (/healthz 503 naming it) and passed over from then on: the exports
// after it are still synced, and it is not synced again. Once the
// archive works again, it is archived and /healthz is 200.
func TestServe_UnarchivableExportDoesNotStall(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	unblock := blockArchive(t, f.archive)
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 2*time.Minute)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "a-day1 synced and passed over", func() bool {
		return strings.Contains(logs.String(), `"file": "`+filepath.Join(f.inbox, "a-day1.csv")+`", "reason": "handled before`)
	})
	f.drop("../../testdata/exports/day2.csv", "b-day2.csv", time.Minute)
	// A tick after b-day2's run passed both over: by then a-day1 was
	// passed over at least twice.
	waitFor(t, 20*time.Second, "b-day2 synced and passed over", func() bool {
		return strings.Contains(logs.String(), `"file": "`+filepath.Join(f.inbox, "b-day2.csv")+`", "reason": "handled before`)
	})
	waitFor(t, 10*time.Second, "/healthz 503", func() bool { code, _ := healthz(addr); return code == http.StatusServiceUnavailable })
	code, body := healthz(addr)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "a-day1.csv") && !strings.Contains(body, "b-day2.csv") {
		t.Errorf("/healthz = %d %s, want 503 naming the export left in the inbox", code, body)
	}
	runs := f.runsOf()
	if len(runs) != 2 || !strings.HasSuffix(runs[1].File, "a-day1.csv") || !strings.HasSuffix(runs[0].File, "b-day2.csv") {
		t.Fatalf("runs = %+v, want a-day1 then b-day2, each once", runs)
	}
	if got := crmValues(f.store); got != day2Values {
		t.Errorf("CRM: %s, want day 2's %s (a-day1 synced again?)", got, day2Values)
	}

	unblock()
	waitFor(t, 20*time.Second, "both archived once the archive works", func() bool { return len(archived(t, f.archive)) == 2 })
	waitFor(t, 10*time.Second, "/healthz 200", func() bool { code, _ := healthz(addr); return code == http.StatusOK })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if runs := f.runsOf(); len(runs) != 2 {
		t.Errorf("%d runs, want 2: an export passed over was synced again", len(runs))
	}
}
