package source_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"erpsync/sync/source/sourcetest"
)

// TestSFTP_PutKeepsOlderWhenRenameFails: on a server without
// posix-rename, a put over an older .error.txt whose new file cannot be
// renamed in (here it vanished on the server just before) keeps the
// older one under its name, whole, and says the put failed.
func TestSFTP_PutKeepsOlderWhenRenameFails(t *testing.T) {
	t.Parallel()
	srv, st, dir, errName := olderPutWithoutPosixRename(t)
	var once sync.Once
	srv.Observe(func(op string) {
		if _, err := os.Stat(errName); op != "rename" || err == nil {
			return // the older file still under its name
		}
		once.Do(func() { // the new file vanishes before it is renamed in
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				p := filepath.Join(dir, e.Name())
				if got, _ := os.ReadFile(p); strings.HasPrefix(e.Name(), ".erpsync-") && bytes.Equal(got, secondReason) {
					os.Remove(p)
				}
			}
		})
	})
	defer srv.Observe(nil)
	if err := st.Put(context.Background(), errName, secondReason); err == nil || !strings.Contains(err.Error(), "older one put back") {
		t.Errorf("the put whose file vanished: %v, want an error saying the older one is put back", err)
	}
	wantPut(t, errName, firstReason, "day1.csv.error.txt") // the older one, kept
}

// TestSFTP_PutSyncedWhereOffered: where the server offers
// fsync@openssh.com, the new file is synced before its rename; a sync
// that fails fails the put, leaving nothing under the name.
func TestSFTP_PutSyncedWhereOffered(t *testing.T) {
	t.Parallel()
	for _, fails := range []bool{false, true} {
		srv := sourcetest.NewSFTPServer(t)
		srv.WithFsync(fails)
		st, _, errName := sftpPutFolder(t, srv, nil)
		var mu sync.Mutex
		var ops []string
		srv.Observe(func(op string) { mu.Lock(); ops = append(ops, op); mu.Unlock() })
		err := st.Put(context.Background(), errName, firstReason)
		srv.Observe(nil)
		mu.Lock()
		synced := slices.Index(ops, sourcetest.Fsync)
		renamed := slices.Index(ops, sourcetest.PosixRename)
		mu.Unlock()
		got, rerr := os.ReadFile(errName)
		switch {
		case synced < 0 || !fails && (renamed < 0 || synced > renamed):
			t.Errorf("fails %v: requests %q: want %s before the rename", fails, ops, sourcetest.Fsync)
		case !fails && (err != nil || !bytes.Equal(got, firstReason)):
			t.Errorf("put: %v; .error.txt = %q, %v; want the reason whole", err, got, rerr)
		case fails && (err == nil || rerr == nil || renamed >= 0):
			t.Errorf("a failed sync: put %v, .error.txt %q (%v), requests %q; want an error and no file", err, got, rerr, ops)
		}
	}
}
