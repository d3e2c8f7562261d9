package source_test

import (
	"bytes"
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

// secret is what a link in the inbox would point at: the process's
// environment, a key file.
const secret = "CRM_TOKEN=s3cr3t-t0ken-never-to-be-read"

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestFetch_LocalLinkNotListed: `ln -s /proc/self/environ inbox/x.csv`
// is not an export: a listing takes regular files only, never through a
// link, and -file given a link is refused (exit 2).
func TestFetch_LocalLinkNotListed(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	writeFile(t, filepath.Join(dir, "secret", "environ"), []byte(secret), t0.Add(time.Hour))
	writeFile(t, filepath.Join(dir, "inbox", "day1.csv"), export(10), t0)
	symlink(t, filepath.Join(dir, "secret", "environ"), filepath.Join(dir, "inbox", "x.csv"))

	cfg := source.DefaultSettings()
	cfg.Path = filepath.Join(dir, "inbox", "*.csv")
	st, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || filepath.Base(entries[0].Name) != "day1.csv" {
		t.Errorf("listing = %+v, want day1.csv alone (no link)", entries)
	}
	exp, _, err := source.Fetch(context.Background(), cfg, "", fetchOptions(t))
	if err != nil || filepath.Base(exp.Path) != "day1.csv" {
		t.Fatalf("fetch = %+v, %v; want day1.csv", exp, err)
	}
	_, _, err = source.Fetch(context.Background(), cfg, filepath.Join(dir, "inbox", "x.csv"), fetchOptions(t))
	var fe *source.UnusableError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("-file of a link: err = %v, want a *source.UnusableError naming the link", err)
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("the secret is in the error: %v", err)
	}
}

// TestFetch_SFTPLinkNotRead: a file listed as regular, replaced by a
// link before it is copied, is not read through the link.
func TestFetch_SFTPLinkNotRead(t *testing.T) {
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	data := []byte(strings.Repeat("y", len(secret))) // the same size: only the type tells them apart
	writeFile(t, filepath.Join(inbox, "day1.csv"), data, time.Now())
	writeFile(t, filepath.Join(srv.Root, "environ"), []byte(secret), time.Now())
	symlink(t, filepath.Join(srv.Root, "environ"), filepath.Join(inbox, "x.csv"))
	cfg := sftpConfig(t, srv, inbox+"/*.csv")
	st, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || filepath.Base(entries[0].Name) != "day1.csv" {
		t.Fatalf("listing = %+v, want day1.csv alone (no link)", entries)
	}
	if err := os.Remove(filepath.Join(inbox, "day1.csv")); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(srv.Root, "environ"), filepath.Join(inbox, "day1.csv"))
	sp, err := source.NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Clean()
	sp.Wait = func(int) time.Duration { return 0 }
	c, err := sp.Fetch(context.Background(), st, entries[0])
	if err == nil {
		got, _ := os.ReadFile(c.Path)
		t.Fatalf("a link was copied: %q", got)
	}
	if !strings.Contains(err.Error(), "symbolic link") || strings.Contains(err.Error(), secret) {
		t.Errorf("err = %v, want a refusal naming the link, without the secret", err)
	}
	if left := spoolFiles(t, sp.Dir()); len(left) != 0 {
		t.Errorf("the spool holds %v", left)
	}
}

// TestReject_ReasonBounded: the .error.txt beside a rejected export quotes
// a short excerpt of the reason, however long the reason is.
func TestReject_ReasonBounded(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inbox", "day1.csv"), export(10), time.Now())
	cfg := source.DefaultSettings()
	cfg.Path = filepath.Join(dir, "inbox", "*.csv")
	cfg.ArchiveDir = filepath.Join(dir, "archive")
	st, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := st.List(context.Background())
	reason := errors.New("header: " + strings.Repeat("A=b\x00", 50_000))
	dest, err := source.Reject(context.Background(), st, entries[0], reason, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(dest + ".error.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(text) > 2048 || bytes.Contains(text, []byte{0}) {
		t.Errorf(".error.txt has %d bytes (NUL: %v), want at most 2048 and no control byte", len(text), bytes.Contains(text, []byte{0}))
	}
}

// TestFetch_LongKeySpooled: a legal 1,020-byte S3 key is copied: the
// spool's name comes from a hash of the key (its extension kept, for
// the format), never from the key itself.
func TestFetch_LongKeySpooled(t *testing.T) {
	srv := sourcetest.NewS3Server(t, "erp")
	key := "inbox/" + strings.Repeat("k", 1020-len("inbox/")-len(".csv.gz")) + ".csv.gz"
	data := export(20)
	srv.Put(t, "erp", key, data)
	cfg := source.DefaultSettings()
	cfg.Path = "s3://erp/inbox/*.csv.gz"
	cfg.S3 = source.S3Config{Endpoint: srv.URL}
	exp, cleanup, err := source.Fetch(context.Background(), cfg, "", fetchOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	got, _ := os.ReadFile(exp.Path)
	if !bytes.Equal(got, data) || exp.Name != key {
		t.Fatalf("copy of %d bytes of %q, want %d of the long key", len(got), exp.Name, len(data))
	}
	if base := filepath.Base(exp.Path); len(base) > 64 || !strings.HasSuffix(base, ".csv.gz") {
		t.Errorf("spool name %q: want a short hashed name ending .csv.gz", base)
	}
}
