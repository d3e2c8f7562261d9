package inbox_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"erpsync/sync"
	"erpsync/sync/inbox"
	"erpsync/sync/source"
)

// Issue 26 follow-up §2: FileSHA256 never reads through a link: one
// swapped in after the listing (pointing at a key file, the process's
// environment) is refused as an unusable export naming the link, and
// nothing of its target is hashed or quoted; a FIFO does not block it.
func TestFileSHA256_RefusesLink(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("CRM_TOKEN=do-not-read-me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "day1.csv")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	sha, err := inbox.FileSHA256(link)
	var fe *source.UnusableError
	if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), "symbolic link") || sha != "" {
		t.Fatalf("FileSHA256(link) = %q, %v; want a *source.UnusableError naming the link", sha, err)
	}
	if sync.Classify(err) != sync.ClassUnusable {
		t.Errorf("class %v, want unusable", sync.Classify(err))
	}
	fifo := filepath.Join(dir, "day2.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := inbox.FileSHA256(fifo); !errors.As(err, &fe) { // returns: the open does not wait for a writer
		t.Errorf("FileSHA256(fifo) = %v; want a *source.UnusableError", err)
	}
	if sha, err := inbox.FileSHA256(secret); err != nil || len(sha) != 64 {
		t.Errorf("FileSHA256(regular file) = %q, %v", sha, err)
	}
}
