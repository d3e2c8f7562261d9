package source_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// fetchListed lists st and copies its only entry to a fresh spool (no
// pause between tries); it returns the error and what the spool holds.
func fetchListed(t *testing.T, st source.Store, before func()) ([]string, error) {
	t.Helper()
	return fetchListedBy(t, st, st, before)
}

// fetchListedBy is fetchListed listing with lister: a store of the same
// source whose stall_timeout is not the test's.
func fetchListedBy(t *testing.T, lister, st source.Store, before func()) ([]string, error) {
	t.Helper()
	entries, err := lister.List(context.Background())
	if err != nil || len(entries) != 1 {
		t.Fatalf("listing = %+v, %v; want one file", entries, err)
	}
	if before != nil {
		before()
	}
	sp, err := source.NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Clean()
	sp.Wait = func(int) time.Duration { return 0 }
	_, err = sp.Fetch(context.Background(), st, entries[0])
	return spoolFiles(t, sp.Dir()), err
}

func s3Store(t *testing.T, srv *sourcetest.S3Server, pattern string, tune func(*source.Settings)) source.Store {
	t.Helper()
	cfg := source.DefaultSettings()
	cfg.Path = pattern
	cfg.S3 = source.S3Config{Endpoint: srv.URL}
	if tune != nil {
		tune(&cfg)
	}
	st, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestFetch_S3BodyBoundedByListing: an S3 body longer than its listed
// size (endless) is read no further than the listing plus one byte, and
// nothing is left in the spool.
func TestFetch_S3BodyBoundedByListing(t *testing.T) {
	srv := sourcetest.NewS3Server(t, "erp")
	data := export(2000) // ~60 KB, as in the issue
	srv.Put(t, "erp", "inbox/day1.csv", data)
	srv.SetBody("erp", "inbox/day1.csv", sourcetest.Endless)
	st := s3Store(t, srv, "s3://erp/inbox/*.csv", nil)
	left, err := fetchListed(t, st, nil)
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("err = %v, want a copy refused as longer than its listing", err)
	}
	if len(left) != 0 {
		t.Errorf("the spool holds %v", left)
	}
	// The client hangs up after the listed size: what the server got to
	// send is bounded by the connection's buffers, far below the cap.
	t.Logf("listed %d bytes; the server got to send %d", len(data), srv.BodyBytes())
	if sent := srv.BodyBytes(); sent >= 16<<20 {
		t.Errorf("the server sent %d bytes for a %d-byte listing", sent, len(data))
	}
}

// TestFetch_SFTPFileBoundedByListing: an SFTP file that grew after its
// listing (or never ends) is copied no further than its listed size.
func TestFetch_SFTPFileBoundedByListing(t *testing.T) {
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	data := export(2000)
	file := filepath.Join(inbox, "day1.csv")
	writeFile(t, file, data, time.Now())
	cfg := sftpConfig(t, srv, inbox+"/*.csv")
	st, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	grow := func() {
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(make([]byte, 8<<20)); err != nil {
			t.Fatal(err)
		}
	}
	before := srv.Sent()
	left, err := fetchListed(t, st, grow)
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("err = %v, want a copy refused as longer than its listing", err)
	}
	if len(left) != 0 {
		t.Errorf("the spool holds %v", left)
	}
	t.Logf("listed %d bytes; the server sent %d", len(data), srv.Sent()-before)
	if sent := srv.Sent() - before; sent >= 1<<20 {
		t.Errorf("the server sent %d bytes for a %d-byte listing", sent, len(data))
	}
}

// TestFetch_ListedOverMaxBytesNotCopied: a remote file listed larger than
// source.max_bytes is refused (exit 2) before any byte is copied.
func TestFetch_ListedOverMaxBytesNotCopied(t *testing.T) {
	srv := sourcetest.NewS3Server(t, "erp")
	srv.Put(t, "erp", "inbox/day1.csv", export(100))
	srv.SetBody("erp", "inbox/day1.csv", sourcetest.Endless) // any GET would count its bytes
	cfg := source.DefaultSettings()
	cfg.Path = "s3://erp/inbox/*.csv"
	cfg.S3 = source.S3Config{Endpoint: srv.URL}
	cfg.MaxBytes = 500
	opt := fetchOptions(t)
	_, _, err := source.Fetch(context.Background(), cfg, "", opt)
	var fe *source.UnusableError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "source.max_bytes") {
		t.Errorf("err = %v, want a *source.UnusableError naming source.max_bytes", err)
	}
	if n := srv.BodyBytes(); n != 0 {
		t.Errorf("%d bytes were sent", n)
	}
	if left := spoolFiles(t, opt.SpoolDir); len(left) != 0 {
		t.Errorf("the spool holds %v", left)
	}
}
