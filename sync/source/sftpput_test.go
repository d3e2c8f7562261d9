package source_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// The reasons the tests put: the second shorter, so that a second
// written over the first in place would leave the first's tail.
var (
	firstReason  = []byte("day1.csv was rejected: a first, longer reason that fills more bytes\n")
	secondReason = []byte("day1.csv: second\n")
)

// sftpPutFolder opens an SFTP store of srv's folder "rejected" (pattern
// *: any name is an export) and returns it with the folder on disk and
// the .error.txt's path in it.
func sftpPutFolder(t *testing.T, srv *sourcetest.SFTPServer, tune func(*source.Settings)) (source.Store, string, string) {
	t.Helper()
	dir := filepath.Join(srv.Root, "rejected")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := sftpConfig(t, srv, dir+"/*")
	if tune != nil {
		tune(&cfg)
	}
	st, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dir, filepath.ToSlash(filepath.Join(dir, "day1.csv.error.txt"))
}

// olderPutWithoutPosixRename is the setting of the tests of a put over an
// older .error.txt on a server without posix-rename: srv, its store of
// the folder "rejected" (sftpPutFolder) and the path of its .error.txt,
// which holds firstReason.
func olderPutWithoutPosixRename(t *testing.T) (*sourcetest.SFTPServer, source.Store, string, string) {
	t.Helper()
	srv := sourcetest.NewSFTPServer(t)
	srv.WithoutPosixRename()
	st, dir, errName := sftpPutFolder(t, srv, nil)
	if err := st.Put(context.Background(), errName, firstReason); err != nil {
		t.Fatal(err)
	}
	return srv, st, dir, errName
}

// wantPut checks that the .error.txt at errName holds reason whole and
// that its folder holds names, nothing else (no temporary left).
func wantPut(t *testing.T, errName string, reason []byte, names ...string) {
	t.Helper()
	if got, err := os.ReadFile(errName); err != nil || !bytes.Equal(got, reason) {
		t.Errorf(".error.txt = %q, %v; want %q whole", got, err, reason)
	}
	if got := folderNames(t, filepath.Dir(errName)); !slices.Equal(got, names) {
		t.Errorf("the folder holds %q, want %q", got, names)
	}
}

// folderNames lists a folder on disk.
func folderNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestSFTP_PutFailedWriteLeavesNoName: a write of .error.txt that the
// server refuses (a full disk) or cuts leaves no file under its name,
// where the ERP side would find it empty and nothing would write it
// again, and no temporary file either: the cut's is removed over a new
// connection, and the store puts the next one whole.
func TestSFTP_PutFailedWriteLeavesNoName(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]sourcetest.WriteFault{"refused": sourcetest.RefuseWrite, "cut": sourcetest.CutWrite} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := sourcetest.NewSFTPServer(t)
			st, dir, errName := sftpPutFolder(t, srv, nil)
			srv.FailWrites(0, 1, fault)
			err := st.Put(context.Background(), errName, firstReason)
			if err == nil || !strings.Contains(err.Error(), "write") || strings.Contains(err.Error(), "put back") {
				t.Errorf("err = %v, want the write's failure, and nothing put back", err)
			}
			if names := folderNames(t, dir); len(names) != 0 {
				t.Fatalf("after the failed put the folder holds %q, want nothing", names)
			}
			if fault == sourcetest.RefuseWrite {
				return // the refusing connection is the store's still
			}
			if err := st.Put(context.Background(), errName, firstReason); err != nil {
				t.Fatalf("the put after the cut: %v", err)
			}
			if got, err := os.ReadFile(errName); err != nil || !bytes.Equal(got, firstReason) {
				t.Errorf(".error.txt = %q, %v; want the reason whole", got, err)
			}
		})
	}
}

// TestSFTP_PutHungWriteBounded: a server that stops answering during the
// write is cut at source.stall_timeout (the whole put is one transfer),
// and leaves no file under the final name.
func TestSFTP_PutHungWriteBounded(t *testing.T) {
	t.Parallel()
	srv := sourcetest.NewSFTPServer(t)
	// A second, not shortStall: the put's temporary is then removed on a
	// new connection within a bound of its own, which a dial and a
	// handshake must fit in on a loaded machine.
	st, dir, errName := sftpPutFolder(t, srv, stallIn(time.Second))
	// The next connection's writes hang: one made before the put, so that
	// the put's bound is spent on the hang, not on a dial.
	srv.FailWrites(0, 1, sourcetest.HangWrite)
	if _, err := st.Exists(context.Background(), errName); err != nil {
		t.Fatal(err)
	}
	var wrote atomic.Bool // the hang met, not a slow dial or handshake cut
	srv.Observe(func(op string) { wrote.Store(wrote.Load() || op == "write") })
	defer srv.Observe(nil)
	var err error
	within(t, "a put to a hung server", func() { err = st.Put(context.Background(), errName, firstReason) })
	if err == nil || !strings.Contains(err.Error(), "stall_timeout") {
		t.Errorf("err = %v, want a put cut at source.stall_timeout", err)
	}
	if !wrote.Load() {
		t.Skip("the put was cut before its write (a loaded machine): the hang was not reached")
	}
	if names := folderNames(t, dir); len(names) != 0 {
		t.Errorf("the hung put left %q, want nothing: no .error.txt, its temporary removed on a new connection (%v)", names, err)
	}
}

// TestSFTP_PutCutAfterMovedAside: on a server without posix-rename, a
// line cut after the older .error.txt was moved aside and before the new
// one went in loses neither: on a new connection the new one, written
// whole, goes in, the older one is removed, and the put succeeds.
func TestSFTP_PutCutAfterMovedAside(t *testing.T) {
	t.Parallel()
	srv, st, _, errName := olderPutWithoutPosixRename(t)
	srv.CutAtRequest("rename", 2) // the refused rename and the aside pass; the new one's is cut
	if err := st.Put(context.Background(), errName, secondReason); err != nil {
		t.Errorf("put cut after the aside: %v, want it settled on a new connection", err)
	}
	wantPut(t, errName, secondReason, "day1.csv.error.txt")
	if n := srv.Connections(); n < 2 {
		t.Errorf("%d connections: the cut was not met", n)
	}
}

// TestSFTP_PutDoneWhenItsCleanupIsCut: a settle that put the new file
// in place and was then cut before it removed the older one's temporary
// has done the put: no error, the new text under the name, and what it
// left beside it is never listed.
func TestSFTP_PutDoneWhenItsCleanupIsCut(t *testing.T) {
	t.Parallel()
	srv, st, _, errName := olderPutWithoutPosixRename(t)
	var armed atomic.Bool
	srv.Observe(func(op string) {
		// The first remove is settle's of the older file, after its
		// rename of the new one: cut it too (the check follows the observer).
		if op == "remove" && armed.CompareAndSwap(false, true) {
			srv.CutAtRequest("remove", 0)
		}
	})
	srv.CutAtRequest("rename", 2) // the refused rename and the aside pass; the new one's is cut
	if err := st.Put(context.Background(), errName, secondReason); err != nil {
		t.Errorf("put whose settle was cut after the new file went in: %v, want done", err)
	}
	srv.Observe(nil)
	if !armed.Load() {
		t.Fatal("the remove was not cut")
	}
	if got, err := os.ReadFile(errName); err != nil || !bytes.Equal(got, secondReason) {
		t.Errorf(".error.txt = %q, %v; want the second reason whole", got, err)
	}
	for _, n := range folderNames(t, filepath.Dir(errName)) {
		if n != "day1.csv.error.txt" && !(strings.HasPrefix(n, ".erpsync-") && strings.HasSuffix(n, ".tmp")) {
			t.Errorf("the folder holds %q", n)
		}
	}
}

// watchPut puts reason while srv's observer checks the folder before
// every request: the final name is absent or holds one of the reasons
// whole (absent only if mayBeAbsent), and the store's own listing takes
// nothing but the export day1.csv. It returns the requests seen and
// whether a temporary file was seen.
func watchPut(t *testing.T, srv *sourcetest.SFTPServer, st source.Store, dir, errName string, reason []byte, mayBeAbsent bool, whole ...[]byte) ([]string, bool) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "day1.csv"), []byte("reference\nC1\n"), time.Now())
	lister, _, _ := sftpPutFolder(t, srv, nil)
	if _, err := lister.List(context.Background()); err != nil { // connected before the put
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		ops     []string
		problem []string
		tmpSeen bool
		inside  atomic.Bool // the lister's own requests pass through the observer too
	)
	srv.Observe(func(op string) {
		if !inside.CompareAndSwap(false, true) {
			return
		}
		defer inside.Store(false)
		mu.Lock()
		defer mu.Unlock()
		ops = append(ops, op)
		got, err := os.ReadFile(errName)
		switch {
		case errors.Is(err, os.ErrNotExist) && mayBeAbsent:
		case err != nil:
			problem = append(problem, op+": "+err.Error())
		case !slices.ContainsFunc(whole, func(w []byte) bool { return bytes.Equal(got, w) }):
			problem = append(problem, op+": .error.txt holds "+string(got))
		}
		entries, _ := os.ReadDir(dir) // not folderNames: no t.Fatal off the test's goroutine
		for _, e := range entries {
			tmpSeen = tmpSeen || strings.HasPrefix(e.Name(), ".erpsync-")
		}
		listed, err := lister.List(context.Background())
		if err != nil || len(listed) != 1 || filepath.Base(listed[0].Name) != "day1.csv" {
			problem = append(problem, op+": the listing takes "+listNames(listed))
		}
	})
	defer srv.Observe(nil)
	if err := st.Put(context.Background(), errName, reason); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problem {
		t.Errorf("before the request %s", p)
	}
	return ops, tmpSeen
}

func listNames(es []source.Entry) string {
	var names []string
	for _, e := range es {
		names = append(names, filepath.Base(e.Name))
	}
	return strings.Join(names, ", ")
}

// TestSFTP_PutNeverSeenPart: a reader of the folder during the put never
// finds .error.txt empty or cut, and the temporary file it is written
// into is never listed as an export.
func TestSFTP_PutNeverSeenPart(t *testing.T) {
	t.Parallel()
	srv := sourcetest.NewSFTPServer(t)
	st, dir, errName := sftpPutFolder(t, srv, nil)
	if _, tmpSeen := watchPut(t, srv, st, dir, errName, firstReason, true, firstReason); !tmpSeen {
		t.Errorf("no temporary file was seen during the put")
	}
	wantPut(t, errName, firstReason, "day1.csv", "day1.csv.error.txt")
}

// TestSFTP_PutReplacesWhole: a second put of the same name replaces the
// first whole, in one step (posix-rename@openssh.com): a reader finds the
// first reason or the second, never none, nothing empty, no mix.
func TestSFTP_PutReplacesWhole(t *testing.T) {
	t.Parallel()
	srv := sourcetest.NewSFTPServer(t)
	st, dir, errName := sftpPutFolder(t, srv, nil)
	if err := st.Put(context.Background(), errName, firstReason); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(errName)
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := watchPut(t, srv, st, dir, errName, secondReason, false, firstReason, secondReason)
	if !slices.Contains(ops, sourcetest.PosixRename) {
		t.Errorf("requests %q: no %s", ops, sourcetest.PosixRename)
	}
	after, err := os.Stat(errName)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Errorf("the second reason was written into the first's file, not renamed over it")
	}
	wantPut(t, errName, secondReason, "day1.csv", "day1.csv.error.txt")
}

// TestSFTP_PutWithoutPosixRename: on a server without the extension,
// whose plain rename refuses an existing name (OpenSSH's sftp-server),
// the second reason still replaces the first: the old file is renamed
// aside, the new one renamed in, then the old one removed. A reader may
// find none for a moment, never one empty or cut.
func TestSFTP_PutWithoutPosixRename(t *testing.T) {
	t.Parallel()
	srv, st, dir, errName := olderPutWithoutPosixRename(t)
	ops, _ := watchPut(t, srv, st, dir, errName, secondReason, true, firstReason, secondReason)
	if slices.Contains(ops, sourcetest.PosixRename) {
		t.Errorf("requests %q: %s, which the server does not offer", ops, sourcetest.PosixRename)
	}
	// The refused rename, the older file's aside, the new one's in; then
	// the removal: never the older file removed before the new is in.
	renames := 0
	for _, op := range ops {
		if op == "rename" {
			renames++
		}
	}
	if last := slices.Index(ops, "remove"); renames != 3 || last < 0 || slices.Contains(ops[last:], "rename") {
		t.Errorf("requests %q: want three renames (refused, aside, in), then a remove", ops)
	}
	wantPut(t, errName, secondReason, "day1.csv", "day1.csv.error.txt")
}

// TestSFTP_PutIsNotForEveryone: as on a local disk, a rejected export's
// .error.txt on SFTP is not for every user of the server (the server's
// own default is 0644 here, OpenSSH's 0666 less its umask).
func TestSFTP_PutIsNotForEveryone(t *testing.T) {
	t.Parallel()
	srv := sourcetest.NewSFTPServer(t)
	st, _, errName := sftpPutFolder(t, srv, nil)
	if err := st.Put(context.Background(), errName, firstReason); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(errName)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o007 != 0 {
		t.Errorf(".error.txt is %v: others may read it", perm)
	}
}
