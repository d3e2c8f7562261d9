package reconcile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/reconcile"
)

// TestVerify_LinkRefused: the pack's files and the export are hashed as
// every export is (inbox.FileSHA256), never through a symbolic link: a
// file of the pack swapped for a link to an identical copy elsewhere is
// named by Verify, and a pack of an export given as a link is not
// written.
func TestVerify_LinkRefused(t *testing.T) {
	dir, _ := writePack(t)
	path := filepath.Join(dir, "reconciliation.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "copy.csv")
	if err := os.WriteFile(elsewhere, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, path); err != nil {
		t.Fatal(err)
	}
	bad, err := reconcile.Verify(dir)
	if err != nil || len(bad) != 1 || !strings.Contains(bad[0], "reconciliation.csv") || !strings.Contains(bad[0], "link") {
		t.Errorf("a file of the pack swapped for a link to the same bytes: %v, %v; want it named as a link", bad, err)
	}

	export := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(export, []byte("ref;name\nR1;A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link.csv")
	if err := os.Symlink(export, link); err != nil {
		t.Fatal(err)
	}
	_, err = reconcile.Write(t.TempDir(), sampleReconciliation(), reconcile.Pack{Source: link, At: time.Unix(0, 0)})
	if err == nil || !strings.Contains(err.Error(), "link") {
		t.Errorf("a pack of an export given as a link: %v, want it refused", err)
	}
}
