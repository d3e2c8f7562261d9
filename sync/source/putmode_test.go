package source_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"erpsync/sync/source"
)

// TestLocal_PutIsNotForEveryone: a rejected export's .error.txt says why
// the file was refused; it is not for every user of the host.
func TestLocal_PutIsNotForEveryone(t *testing.T) {
	dir := t.TempDir()
	st := openLocalInbox(t, dir)
	name := filepath.Join(dir, "day1.csv.error.txt")
	if err := st.Put(context.Background(), name, []byte("why")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o007 != 0 {
		t.Errorf(".error.txt is %v: others may read it", perm)
	}
}

// TestLocal_PutWholeOrNothing: .error.txt is written beside its place
// and renamed into it, so that a reader never finds it empty or cut
// (a test of serve's once read it between its creation and its write):
// a second reason replaces the first whole, and no temporary file is
// left in the inbox.
func TestLocal_PutWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	st := openLocalInbox(t, dir)
	name := filepath.Join(dir, "day1.csv.error.txt")
	var before os.FileInfo
	for _, why := range []string{"a first, longer reason", "second"} {
		if err := st.Put(context.Background(), name, []byte(why)); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(name); err != nil || string(got) != why {
			t.Fatalf(".error.txt = %q, %v; want %q", got, err, why)
		}
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		// Written in place, the file would stay the same one, and a
		// reader could find it empty between its truncation and its write.
		if before != nil && os.SameFile(before, info) {
			t.Errorf("the second reason was written into the first's file, not renamed over it")
		}
		before = info
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("inbox holds %q, want only day1.csv.error.txt", names)
	}
}

// openLocalInbox opens the local inbox of CSV exports in dir, closed when
// the test ends.
func openLocalInbox(t *testing.T, dir string) source.Store {
	t.Helper()
	st, err := source.Open(context.Background(), filepath.Join(dir, "*.csv"), source.DefaultSettings(), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
