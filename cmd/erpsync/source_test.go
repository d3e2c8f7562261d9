package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/source/sourcetest"
)

const sftpPasswordEnv = "ERPSYNC_TEST_SFTP_PASSWORD"

// The SFTP password is set once for the package, not by t.Setenv in each
// test: it is the same everywhere, and t.Setenv forbids t.Parallel.
func init() { os.Setenv(sftpPasswordEnv, sourcetest.Password) }

// withSource replaces the demo config's source.path and adds keys to
// the source: section.
func withSource(path, keys string) func(string) string {
	return func(cfg string) string {
		cfg = strings.Replace(cfg, "  path: testdata/exports/day*.csv", "  path: "+path, 1)
		return strings.Replace(cfg, "source:\n", "source:\n"+keys, 1)
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return b.Bytes()
}

func zippedOne(t *testing.T, name string, data []byte) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.Create(name)
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return b.Bytes()
}

// planAndRun plans then runs the export of the config, and returns the
// plan's CSV and the upserts the CRM received.
func planAndRun(t *testing.T, e *e2e) (string, int64) {
	t.Helper()
	out := filepath.Join(e.dir, "plan.csv")
	if code, stdout, errOut := e.run("plan", "-out", out); code != ExitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, errOut)
	}
	plan, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if code, stdout, errOut := e.run("run"); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, errOut)
	}
	upserts, _ := e.writes()
	return string(plan), upserts
}

// Acceptance: run with sftp://…/inbox/*.csv.gz and with
// s3://bucket/inbox/*.zip syncs exactly as the same local file does.
func TestSource_RemoteRunsAsLocal(t *testing.T) {
	data, err := os.ReadFile(day1)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(day1)
	local := newE2E(t, crmsim.Options{}, withSource(abs, ""))
	wantPlan, wantUpserts := planAndRun(t, local)
	if wantUpserts == 0 || !strings.Contains(wantPlan, "create") {
		t.Fatalf("the local run did nothing: %d upserts, plan %q", wantUpserts, wantPlan)
	}

	t.Run("sftp csv.gz", func(t *testing.T) {
		srv := sourcetest.NewSFTPServer(t)
		inbox := filepath.Join(srv.Root, "inbox")
		_ = os.MkdirAll(inbox, 0o755)
		if err := os.WriteFile(filepath.Join(inbox, "day1.csv.gz"), gzipped(t, data), 0o644); err != nil {
			t.Fatal(err)
		}
		keys := "  sftp:\n    password_env: " + sftpPasswordEnv + "\n    known_hosts: " + srv.KnownHosts(t, srv.HostKey) + "\n"
		e := newE2E(t, crmsim.Options{}, withSource(srv.URL(inbox+"/*.csv.gz"), keys))
		plan, upserts := planAndRun(t, e)
		if plan != wantPlan || upserts != wantUpserts {
			t.Errorf("sftp: %d upserts, plan\n%s\nwant %d upserts, plan\n%s", upserts, plan, wantUpserts, wantPlan)
		}
		assertNoSpool(t, e.dir)
	})
	t.Run("s3 zip", func(t *testing.T) {
		srv := sourcetest.NewS3Server(t, "erp")
		srv.Put(t, "erp", "inbox/day1.zip", zippedOne(t, "day1.csv", data))
		e := newE2E(t, crmsim.Options{}, withSource("s3://erp/inbox/*.zip", "  s3:\n    endpoint: "+srv.URL+"\n"))
		plan, upserts := planAndRun(t, e)
		if plan != wantPlan || upserts != wantUpserts {
			t.Errorf("s3: %d upserts, plan\n%s\nwant %d upserts, plan\n%s", upserts, plan, wantUpserts, wantPlan)
		}
		assertNoSpool(t, e.dir)
	})
}

// Acceptance: a wrong host key refuses the connection naming
// known_hosts; exit 4; nothing read.
func TestSource_WrongHostKeyExits4(t *testing.T) {
	t.Parallel()
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	_ = os.MkdirAll(inbox, 0o755)
	_ = os.WriteFile(filepath.Join(inbox, "day1.csv"), []byte("KUNNR\n1\n"), 0o644)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ssh.NewSignerFromKey(key)
	knownHosts := srv.KnownHosts(t, other.PublicKey())
	keys := "  sftp:\n    password_env: " + sftpPasswordEnv + "\n    known_hosts: " + knownHosts + "\n"
	e := newE2E(t, crmsim.Options{}, withSource(srv.URL(inbox+"/*.csv"), keys))
	code, _, errOut := e.run("run")
	if code != ExitFatal || !strings.Contains(errOut, "known_hosts "+knownHosts) {
		t.Fatalf("exit %d, want %d with known_hosts named:\n%s", code, ExitFatal, errOut)
	}
	if strings.Contains(errOut, sourcetest.Password) {
		t.Error("the password is in the output")
	}
	if up, _ := e.writes(); up != 0 {
		t.Errorf("%d upserts after a refused connection", up)
	}
	assertNoSpool(t, e.dir)
}

// assertNoSpool checks that no copy is left beside the state file.
func assertNoSpool(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, ".erpsync-spool-*"))
	if len(left) != 0 {
		t.Errorf("spool left behind: %v", left)
	}
}
