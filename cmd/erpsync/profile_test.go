package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestProfiles_Trace: ERPSYNC_TRACE names the file of the runtime's
// execution trace (go tool trace), written until the command ends.
func TestProfiles_Trace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.out")
	t.Setenv("ERPSYNC_TRACE", path)
	stop := startProfiles(io.Discard)
	stop()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(text, []byte("go 1.")) {
		t.Errorf("%s begins %q, not a trace", path, text[:min(len(text), 16)])
	}
}
