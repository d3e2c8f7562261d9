package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/source/sourcetest"
)

// Issue 26: an unusable SFTP export is named by its sftp:// source in
// the error, not by its copy in the spool; -file given a symbolic link
// is refused (exit 2) without reading what it points at.
func TestSource_SealedErrors(t *testing.T) {
	t.Parallel()
	t.Run("sftp error names the source", func(t *testing.T) {
		srv := sourcetest.NewSFTPServer(t)
		inbox := filepath.Join(srv.Root, "inbox")
		_ = os.MkdirAll(inbox, 0o755)
		if err := os.WriteFile(filepath.Join(inbox, "bad.csv"), []byte("NOPE\n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		keys := "  sftp:\n    password_env: " + sftpPasswordEnv + "\n    known_hosts: " + srv.KnownHosts(t, srv.HostKey) + "\n"
		e := newE2E(t, crmsim.Options{}, withSource(srv.URL(inbox+"/*.csv"), keys))
		code, _, errOut := e.run("run")
		_, msg, _ := strings.Cut(errOut, "erpsync: export ") // the error, after the logs (which name both)
		if code != ExitUsage || !strings.HasPrefix(msg, srv.URL(inbox+"/bad.csv")) || strings.Contains(msg, ".erpsync-spool") {
			t.Errorf("exit %d, want %d naming %s, not the spool:\n%s", code, ExitUsage, srv.URL(inbox+"/bad.csv"), errOut)
		}
	})
	t.Run("-file of a link", func(t *testing.T) {
		e := newE2E(t, crmsim.Options{}, nil)
		secret := e.file("environ", "CRM_TOKEN=s3cr3t\n")
		link := filepath.Join(e.dir, "x.csv")
		if err := os.Symlink(secret, link); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := e.run("run", "-file", link)
		if code != ExitUsage || !strings.Contains(errOut, "symbolic link") || strings.Contains(errOut, "s3cr3t") {
			t.Errorf("exit %d, want %d refusing the link:\n%s", code, ExitUsage, errOut)
		}
	})
}
