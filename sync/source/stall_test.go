package source_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// within runs fn and fails the test if it has not returned after 20 s:
// the bug these tests guard against is a run that never ends.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s still hangs after 20 s", what)
	}
}

func stallIn(d time.Duration) func(*source.Settings) {
	return func(c *source.Settings) { c.StallTimeout = d }
}

// shortStall is the stall_timeout of the stores whose transfers stall
// by design: the cut is the expected end, so it may come early. The
// listing before it is made by a store of the default timeout: a
// loaded machine's slow answer must not fail it.
const shortStall = 50 * time.Millisecond

// TestFetch_S3StallCut: a GET that answers nothing, or sends a little
// and then nothing, is cut after source.stall_timeout without a byte and
// tried again, three times in all; the spool is left empty.
func TestFetch_S3StallCut(t *testing.T) {
	for name, body := range map[string]sourcetest.Body{"no answer": sourcetest.StallHeaders, "body stops": sourcetest.StallBody} {
		t.Run(name, func(t *testing.T) {
			srv := sourcetest.NewS3Server(t, "erp")
			srv.Put(t, "erp", "inbox/day1.csv", export(2000))
			srv.SetBody("erp", "inbox/day1.csv", body)
			lister := s3Store(t, srv, "s3://erp/inbox/*.csv", nil)
			st := s3Store(t, srv, "s3://erp/inbox/*.csv", stallIn(shortStall))
			var err error
			var left []string
			within(t, "a stalled S3 GET", func() { left, err = fetchListedBy(t, lister, st, nil) })
			if err == nil || !strings.Contains(err.Error(), "stalled") || !strings.Contains(err.Error(), "after 3 tries") {
				t.Errorf("err = %v, want a copy cut as stalled, after 3 tries", err)
			}
			if len(left) != 0 {
				t.Errorf("the spool holds %v", left)
			}
		})
	}
}

// TestFetch_SFTPTrickleCut: a server that trickles a byte every 50 ms
// while answering keepalives moves no whole packet: the transfer is cut
// after source.stall_timeout and the next try gets the file whole.
func TestFetch_SFTPTrickleCut(t *testing.T) {
	t.Parallel() // it waits a stall timeout; its own server
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	data := export(5000)
	writeFile(t, filepath.Join(inbox, "day1.csv"), data, time.Now())
	cfg := sftpConfig(t, srv, inbox+"/*.csv")
	cfg.StallTimeout = 200 * time.Millisecond
	srv.TrickleAfter(40_000, 1)
	before := srv.Connections()
	var exp *source.Export
	var err error
	within(t, "a trickling SFTP transfer", func() {
		var cleanup func()
		exp, cleanup, err = source.Fetch(context.Background(), cfg, "", fetchOptions(t))
		if err == nil {
			t.Cleanup(cleanup)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(exp.Path); !bytes.Equal(got, data) {
		t.Errorf("copy has %d bytes, want %d", len(got), len(data))
	}
	if n := srv.Connections() - before; n != 2 {
		t.Errorf("%d connections, want 2 (trickled, then whole)", n)
	}
}

// TestSpool_StalledWhileRetrying: the spool says a transfer is stalled
// from its first cut until the fetch ends (serve's /healthz reads it).
func TestSpool_StalledWhileRetrying(t *testing.T) {
	srv := sourcetest.NewS3Server(t, "erp")
	srv.Put(t, "erp", "inbox/day1.csv", export(100))
	srv.SetBody("erp", "inbox/day1.csv", sourcetest.StallHeaders)
	st := s3Store(t, srv, "s3://erp/inbox/*.csv", stallIn(shortStall))
	entries, err := s3Store(t, srv, "s3://erp/inbox/*.csv", nil).List(context.Background())
	if err != nil || len(entries) != 1 {
		t.Fatalf("listing = %+v, %v", entries, err)
	}
	sp, err := source.NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Clean()
	release := make(chan struct{})
	sp.Wait = func(n int) time.Duration {
		if n == 2 {
			<-release // the test looks while the second try waits
		}
		return 0
	}
	done := make(chan error, 1)
	go func() { _, err := sp.Fetch(context.Background(), st, entries[0]); done <- err }()
	for i := 0; !sp.Stalled(); i++ {
		if i == 2000 {
			t.Fatal("the spool never said stalled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	within(t, "the fetch", func() { err = <-done })
	if err == nil || sp.Stalled() {
		t.Errorf("after the fetch: err = %v, stalled = %v; want an error, and stalled no more", err, sp.Stalled())
	}
}

// TestList_S3Bounded: a listing that never ends is cut at a bound of
// pages and keys (lowered for the test: 8 pages of the endless
// listing's 100 keys, or 200 matching keys, i.e. 3 pages).
func TestList_S3Bounded(t *testing.T) {
	// Not parallel: SetListBounds changes what every listing reads.
	for name, pattern := range map[string]string{"keys": "s3://erp/inbox/*.zip", "pages": "s3://erp/inbox/*.csv"} {
		t.Run("endless, bound by "+name, func(t *testing.T) {
			defer source.SetListBounds(8, 200)()
			srv := sourcetest.NewS3Server(t, "erp")
			srv.SetList(sourcetest.ListEndless)
			st := s3Store(t, srv, pattern, nil)
			var err error
			within(t, "an endless listing", func() { _, err = st.List(context.Background()) })
			if err == nil || !strings.Contains(err.Error(), "more than 8 pages or 200 matching keys") {
				t.Errorf("err = %v, want a listing cut at its bound", err)
			}
			t.Logf("%d list requests", srv.Listings())
			if n := srv.Listings(); n > 8 {
				t.Errorf("%d list requests, want at most 8", n)
			}
		})
	}
}

// TestList_S3Stalled: a listing that is never answered is cut after
// source.stall_timeout.
func TestList_S3Stalled(t *testing.T) {
	// Not parallel: sourcetest's S3 server sets the AWS variables.
	srv := sourcetest.NewS3Server(t, "erp")
	srv.SetList(sourcetest.ListStall)
	st := s3Store(t, srv, "s3://erp/inbox/*.zip", stallIn(shortStall)) // the listing stalls by design
	var err error
	within(t, "a stalled listing", func() { _, err = st.List(context.Background()) })
	if err == nil || !strings.Contains(err.Error(), "stall_timeout") {
		t.Errorf("err = %v, want a listing cut after stall_timeout", err)
	}
}

// TestList_SFTPTrickleCut: a server that trickles its listing while
// answering keepalives is cut after source.stall_timeout.
func TestList_SFTPTrickleCut(t *testing.T) {
	t.Parallel() // it waits a stall timeout; its own server
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	for i := range 50 {
		writeFile(t, filepath.Join(inbox, strings.Repeat("n", 100)+string(rune('a'+i%26))+string(rune('a'+i/26))+".csv"), []byte("x"), time.Now())
	}
	cfg := sftpConfig(t, srv, inbox+"/*.csv")
	cfg.StallTimeout = 200 * time.Millisecond
	st, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv.TrickleAfter(2_000, 1) // past the SFTP handshake, within the listing (~10 KB)
	within(t, "a trickled SFTP listing", func() { _, err = st.List(context.Background()) })
	if err == nil || !strings.Contains(err.Error(), "stall_timeout") {
		t.Errorf("err = %v, want a listing cut after stall_timeout", err)
	}
}
