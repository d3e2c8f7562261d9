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
	st, err := source.Open(context.Background(), filepath.Join(dir, "*.csv"), source.DefaultSettings(), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
