package spill_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"erpsync/sync/reconcile/spill"
)

// TestSpill_RecordsBackByOffset: records appended are read back whole by
// their offsets, in any order, written or not yet flushed; the file is
// created 0600 and removed by Close.
func TestSpill_RecordsBackByOffset(t *testing.T) {
	dir := t.TempDir()
	f, err := spill.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	var want [][]byte
	for i := range 2000 {
		rec := bytes.Repeat([]byte(fmt.Sprintf("record %d;", i)), i%97)
		off, err := f.Append(rec)
		if err != nil {
			t.Fatal(err)
		}
		offs, want = append(offs, off), append(want, rec)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d files in the folder, want the spill alone", len(entries))
	}
	if st, err := os.Stat(f.Name()); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("spill file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	var buf []byte
	for i := len(offs) - 1; i >= 0; i -= 7 {
		if buf, err = f.Read(offs[i], buf); err != nil || !bytes.Equal(buf, want[i]) {
			t.Fatalf("record %d read back as %q, %v; want %q", i, buf, err, want[i])
		}
	}
	if err := f.Reset(); err != nil {
		t.Fatal(err)
	}
	off, err := f.Append([]byte("after reset"))
	if err != nil || off != 0 {
		t.Fatalf("after Reset the first record is at %d (%v), want 0", off, err)
	}
	if buf, err = f.Read(off, buf); err != nil || string(buf) != "after reset" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left after Close, want none", len(entries))
	}
	if _, err := f.Read(0, nil); err == nil {
		t.Error("a read after Close succeeded")
	}
}

// TestSpill_BadOffset: an offset that names no record is an error, not a
// panic nor a huge allocation.
func TestSpill_BadOffset(t *testing.T) {
	f, err := spill.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Append([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{-1, 2, 4, 1 << 40} {
		if got, err := f.Read(off, nil); err == nil {
			t.Errorf("offset %d read %q, want an error", off, got)
		}
	}
}
