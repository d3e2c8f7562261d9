package records

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestOpenFile_RefusesAPipe: a named pipe swapped in for an export after
// its listing is refused at once, not waited on (issue 26: the worker is
// never stuck on one file).
func TestOpenFile_RefusesAPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.csv")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := openFile(path)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errNotRegular) {
			t.Errorf("err = %v, want errNotRegular", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opening a named pipe waited for a writer") // bounded: the old open blocked for ever
	}
}
