package source_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"erpsync/sync/source"
)

// otherFileSystem returns a folder on another file system than dir
// (/dev/shm, a tmpfs), or skips the test when there is none: a rename
// from dir into it must fail with EXDEV for the test to mean anything.
func otherFileSystem(t *testing.T, dir string) string {
	t.Helper()
	other, err := os.MkdirTemp("/dev/shm", "erpsync-exdev-")
	if err != nil {
		t.Skipf("no /dev/shm to archive into (%v): the cross-device move is not tested here", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(other) })
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(probe, filepath.Join(other, "probe")); !errors.Is(err, syscall.EXDEV) {
		t.Skipf("%s and /dev/shm are on the same file system (rename: %v): the cross-device move is not tested here", dir, err)
	}
	return other
}

// Guarantee (issue 16 §10): archive_dir on another file system than the
// inbox is moved into by copy, fsync, rename, then remove: the archived
// file is whole, keeps its time, and the inbox no longer holds it.
func TestArchive_AcrossFileSystems(t *testing.T) {
	inbox := t.TempDir()
	archive := filepath.Join(otherFileSystem(t, inbox), "archive")
	data := export(2000)
	mod := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	writeFile(t, filepath.Join(inbox, "customers.csv.gz"), data, mod)

	cfg := source.DefaultSettings()
	cfg.ArchiveDir = archive
	st, err := source.Open(context.Background(), filepath.Join(inbox, "*.csv.gz"), cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	dest, err := source.Archive(context.Background(), st, source.Entry{Name: filepath.Join(inbox, "customers.csv.gz")}, at)
	if err != nil {
		t.Fatalf("archive across file systems: %v", err)
	}
	if want := filepath.Join(archive, "customers.20260301T020000Z.csv.gz"); dest != want {
		t.Errorf("archived as %s, want %s", dest, want)
	}
	got, err := os.ReadFile(dest)
	if err != nil || string(got) != string(data) {
		t.Fatalf("archived copy: %d bytes (%v), want the %d bytes of the export", len(got), err, len(data))
	}
	if info, _ := os.Stat(dest); info == nil || !info.ModTime().Equal(mod) {
		t.Errorf("archived copy's time = %v, want the export's %v", info, mod)
	}
	if _, err := os.Stat(filepath.Join(inbox, "customers.csv.gz")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the export is still in the inbox: %v", err)
	}
	if left, _ := os.ReadDir(archive); len(left) != 1 {
		t.Errorf("archive holds %d entries, want the export alone (no .partial copy)", len(left))
	}
}
