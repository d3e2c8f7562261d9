package source_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"erpsync/sync/source"
)

// TestGlob_AsFilepathGlobButTells: on folders that read, Glob lists what
// filepath.Glob lists; a folder that does not read is an error naming
// it, where filepath.Glob lists nothing.
func TestGlob_AsFilepathGlobButTells(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"in/a.csv", "in/b.csv", "in/b.txt", "in/sub/c.csv", "other/d.csv", "x[1].csv"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"in/*.csv", "*/*.csv", "in/?.csv", "in/[ab].*", "in/a.csv", "in/none.csv", "gone/*.csv",
		"*/sub/*.csv", `x\[1\].csv`, "*"} {
		pattern := filepath.Join(dir, p)
		want, _ := filepath.Glob(pattern)
		got, err := source.Glob(pattern)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Glob(%s) = %q, %v; want %q", p, got, err, want)
		}
	}
	if _, err := source.Glob(filepath.Join(dir, "in/[.csv")); !errors.Is(err, filepath.ErrBadPattern) {
		t.Errorf("a bad pattern: %v, want ErrBadPattern", err)
	}
	if err := os.Symlink("loop", filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"file/*.csv", "file/*/x.csv", "loop/*.csv"} {
		pattern := filepath.Join(dir, p)
		got, err := source.Glob(pattern)
		if err == nil || !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, syscall.ELOOP) {
			t.Errorf("Glob(%s) = %q, %v; want the folder's error", p, got, err)
		}
	}
}
