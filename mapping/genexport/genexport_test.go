package genexport_test

import (
	"testing"

	"erpsync/mapping/genexport"
)

// TestFloorRead: the floor read counts every record of a generated day 1,
// the header included.
func TestFloorRead(t *testing.T) {
	day1, _, err := genexport.WriteFiles(t.TempDir(), genexport.Options{Rows: 50, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := genexport.FloorRead(day1); err != nil || n != 51 {
		t.Errorf("FloorRead = %d, %v; want 51 (header and 50 rows)", n, err)
	}
	if _, err := genexport.FloorRead(day1 + ".missing"); err == nil {
		t.Error("FloorRead of a missing file: no error")
	}
}
