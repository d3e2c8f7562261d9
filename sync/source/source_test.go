package source_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/crypto/ssh"

	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

const passwordEnv = "TEST_SFTP_PASSWORD"

// sftpConfig is a source: section for srv, checking its real host key.
func sftpConfig(t *testing.T, srv *sourcetest.SFTPServer, pattern string) source.Settings {
	cfg := source.DefaultSettings()
	cfg.Path = srv.URL(pattern)
	cfg.SFTP = source.SFTPConfig{PasswordEnv: passwordEnv, KnownHosts: srv.KnownHosts(t, srv.HostKey)}
	return cfg
}

func getenv(name string) string {
	if name == passwordEnv {
		return sourcetest.Password
	}
	return ""
}

// fetchOptions are a test's: a copy's retries follow at once (the
// spool's own pauses are 1 s, 2 s…), what they do is the test's point.
func fetchOptions(t *testing.T) source.FetchOptions {
	return source.FetchOptions{Options: source.Options{Getenv: getenv}, SpoolDir: t.TempDir(),
		RetryWait: func(int) time.Duration { return 0 }}
}

// export is a file's content, large enough to be sent in many packets.
func export(n int) []byte {
	var b bytes.Buffer
	b.WriteString("reference,name\n")
	for i := range n {
		b.WriteString("C" + strings.Repeat("0", 5) + string(rune('a'+i%26)) + ",Customer number " + strings.Repeat("x", i%40) + "\n")
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, data []byte, mod time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

func TestFetch_SFTPNewestCopiedAndChecked(t *testing.T) {
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	old, newer := export(50), export(3000)
	t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	writeFile(t, filepath.Join(inbox, "day1.csv.gz"), old, t0)
	writeFile(t, filepath.Join(inbox, "day2.csv.gz"), newer, t0.Add(time.Hour))
	writeFile(t, filepath.Join(inbox, "notes.txt"), []byte("no"), t0.Add(2*time.Hour))

	opt := fetchOptions(t)
	exp, cleanup, err := source.Fetch(context.Background(), sftpConfig(t, srv, inbox+"/*.csv.gz"), "", opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(exp.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, newer) || exp.Name != filepath.Join(inbox, "day2.csv.gz") || !strings.HasSuffix(exp.Path, ".csv.gz") {
		t.Fatalf("copy %s: %d bytes, want day2.csv.gz's %d", exp.Path, len(got), len(newer))
	}
	if exp.Kind != source.KindSFTP || exp.Verified != "size" || exp.SHA256 == "" {
		t.Errorf("export = %+v, want kind sftp checked by size with a sha256", exp)
	}
	if !strings.HasPrefix(exp.Path, opt.SpoolDir) {
		t.Errorf("copy %s is not in the spool %s", exp.Path, opt.SpoolDir)
	}
	cleanup()
	if left := spoolFiles(t, opt.SpoolDir); len(left) != 0 {
		t.Errorf("spool after cleanup holds %v", left)
	}
}

func TestFetch_SFTPHostKeyRefused(t *testing.T) {
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	writeFile(t, filepath.Join(inbox, "day1.csv"), export(10), time.Now())
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ssh.NewSignerFromKey(otherKey)
	cases := map[string]string{
		"wrong key":    srv.KnownHosts(t, other.PublicKey()),
		"unknown host": filepath.Join(t.TempDir(), "empty_known_hosts"),
	}
	if err := os.WriteFile(cases["unknown host"], nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, knownHosts := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := sftpConfig(t, srv, inbox+"/*.csv")
			cfg.SFTP.KnownHosts = knownHosts
			opt := fetchOptions(t)
			_, _, err := source.Fetch(context.Background(), cfg, "", opt)
			if err == nil || !strings.Contains(err.Error(), "known_hosts "+knownHosts) || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("err = %v, want a refusal naming known_hosts %s", err, knownHosts)
			}
			var fe *source.UnusableError
			if errors.As(err, &fe) {
				t.Errorf("a refused host key is a *source.UnusableError (exit 2), want a fatal error (exit 4)")
			}
			if left := spoolFiles(t, opt.SpoolDir); len(left) != 0 {
				t.Errorf("something was read: %v", left)
			}
			if strings.Contains(err.Error(), sourcetest.Password) {
				t.Errorf("the password is in the error: %v", err)
			}
		})
	}
}

func TestFetch_SFTPInsecureWarnsEveryRun(t *testing.T) {
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	writeFile(t, filepath.Join(inbox, "day1.csv"), export(10), time.Now())
	cfg := sftpConfig(t, srv, inbox+"/*.csv")
	cfg.SFTP = source.SFTPConfig{PasswordEnv: passwordEnv, InsecureIgnoreHostKey: true}
	core, logs := observer.New(zap.WarnLevel)
	opt := fetchOptions(t)
	opt.Log = zap.New(core)
	for range 2 {
		_, cleanup, err := source.Fetch(context.Background(), cfg, "", opt)
		if err != nil {
			t.Fatal(err)
		}
		cleanup()
	}
	if n := logs.FilterMessageSnippet("NOT checked").Len(); n != 2 {
		t.Errorf("%d warnings in 2 runs, want 2", n)
	}
}

func TestFetch_CutTransferRetried(t *testing.T) {
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	data := export(5000) // ~150 KB: many SFTP packets
	writeFile(t, filepath.Join(inbox, "day1.csv"), data, time.Now())
	cfg := sftpConfig(t, srv, inbox+"/*.csv")

	// The spool's pauses between tries (1 s, then 2 s) are the test's
	// own: what a retry does is what is shown, not how long it waits.
	var waited []int
	noWait := func(n int) time.Duration { waited = append(waited, n); return 0 }
	t.Run("once: the second try gets it whole", func(t *testing.T) {
		srv.CutAfter(40_000, 1)
		before := srv.Connections()
		opt := fetchOptions(t)
		opt.RetryWait = noWait
		exp, cleanup, err := source.Fetch(context.Background(), cfg, "", opt)
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup()
		got, _ := os.ReadFile(exp.Path)
		if !bytes.Equal(got, data) {
			t.Fatalf("copy has %d bytes, want %d", len(got), len(data))
		}
		if n := srv.Connections() - before; n != 2 {
			t.Errorf("%d connections, want 2 (cut, then whole)", n)
		}
	})
	t.Run("every time: an error, nothing in the spool", func(t *testing.T) {
		srv.CutAfter(40_000, 100)
		opt := fetchOptions(t)
		opt.RetryWait = noWait
		_, _, err := source.Fetch(context.Background(), cfg, "", opt)
		if err == nil || !strings.Contains(err.Error(), "after 3 tries") {
			t.Fatalf("err = %v, want a copy failed after 3 tries", err)
		}
		if left := spoolFiles(t, opt.SpoolDir); len(left) != 0 {
			t.Errorf("a half copy was left: %v", left)
		}
		srv.CutAfter(0, 0)
	})
	if !slices.Equal(waited, []int{2, 2, 3}) {
		t.Errorf("paused before tries %v, want 2 (once), then 2 and 3", waited)
	}
}

func TestFetch_S3(t *testing.T) {
	srv := sourcetest.NewS3Server(t, "erp")
	old, newer := export(10), export(900)
	srv.Put(t, "erp", "inbox/day1.zip", old)
	srv.Put(t, "erp", "inbox/day2.zip", newer)
	srv.Put(t, "erp", "inbox/sub/day3.zip", old)
	srv.Put(t, "erp", "other/day4.zip", old)
	cfg := source.DefaultSettings()
	cfg.Path = "s3://erp/inbox/*.zip"
	cfg.S3 = source.S3Config{Endpoint: srv.URL, Region: "eu-west-3"}
	opt := fetchOptions(t)
	exp, cleanup, err := source.Fetch(context.Background(), cfg, "", opt)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	got, _ := os.ReadFile(exp.Path)
	if !bytes.Equal(got, newer) || exp.Name != "inbox/day2.zip" {
		t.Fatalf("copy of %s: %d bytes, want inbox/day2.zip's %d", exp.Name, len(got), len(newer))
	}
	if exp.Kind != source.KindS3 || exp.Verified != "size+md5" || exp.Source != "s3://erp/inbox/day2.zip" {
		t.Errorf("export = %+v, want kind s3 checked by size and the ETag's md5", exp)
	}
}

func TestFetch_NoMatchIsUnusable(t *testing.T) {
	srv := sourcetest.NewS3Server(t, "erp")
	cfg := source.DefaultSettings()
	cfg.Path = "s3://erp/inbox/*.zip"
	cfg.S3.Endpoint = srv.URL
	_, _, err := source.Fetch(context.Background(), cfg, "", fetchOptions(t))
	var fe *source.UnusableError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "matches no file") {
		t.Fatalf("err = %v, want a *source.UnusableError saying no file matches", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"sftp://erp:hunter2@h:22/in/*.csv": "sftp://erp:xxxxx@h:22/in/*.csv",
		"sftp://erp@h/in/*.csv":            "sftp://erp@h/in/*.csv",
		"s3://bucket/in/*.zip":             "s3://bucket/in/*.zip",
		"/data/in/*.csv":                   "/data/in/*.csv",
	} {
		if got := source.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	cfg := source.DefaultSettings()
	cfg.Path = "sftp://erp:hunter2@127.0.0.1/in/*.csv"
	_, err := source.Open(context.Background(), cfg.Path, cfg, source.Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a password in the URL: err = %v, want a refusal without the password", err)
	}
}

func TestSplitExt(t *testing.T) {
	for in, want := range map[string]string{"a.csv.gz": ".csv.gz", "a.zip": ".zip", "a.xlsx": ".xlsx", "a.gz": ".gz", "a": ""} {
		if _, got := source.SplitExt(in); got != want {
			t.Errorf("SplitExt(%q) ext = %q, want %q", in, got, want)
		}
	}
}

// TestFetch_HungServerDropped: a server that falls silent mid-transfer
// (the connection up, no answer, not even to keepalives) is dropped after
// the SFTP timeout and the copy tried again, instead of blocking serve's
// tick for ever.
func TestFetch_HungServerDropped(t *testing.T) {
	t.Parallel() // it waits the SFTP timeout; its own server
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	data := export(5000)
	writeFile(t, filepath.Join(inbox, "day1.csv"), data, time.Now())
	cfg := sftpConfig(t, srv, inbox+"/*.csv")
	cfg.SFTP.Timeout = 300 * time.Millisecond
	srv.FreezeAfter(40_000, 1)
	done := make(chan error, 1)
	go func() {
		exp, cleanup, err := source.Fetch(context.Background(), cfg, "", fetchOptions(t))
		if err == nil {
			got, _ := os.ReadFile(exp.Path)
			if !bytes.Equal(got, data) {
				err = fmt.Errorf("copy has %d bytes, want %d", len(got), len(data))
			}
			cleanup()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the fetch still hangs on a silent server after 20 s")
	}
}
