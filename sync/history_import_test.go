package sync_test

import (
	"fmt"
	"testing"
	"time"

	"erpsync/sync"
)

// TestHistory_ImportKeepsItsBound (issue 25 §3, the import's memory): a
// run keeps at most Settings.HistoryWrites writes for the customers'
// history (erpsync import sets fewer than a nightly run keeps: a
// migration's events held until its end weighed 90 MB at 1M rows); the
// first ones are recorded, the others not, and every row is imported.
func TestHistory_ImportKeepsItsBound(t *testing.T) {
	c := newPolicyJob(t, nil)
	c.job.Mode = sync.ModeImport
	c.job.Settings.History, c.job.Settings.HistoryWrites = time.Hour, 3
	c.job.Settings.Concurrency = 1 // the first rows are the first written
	lines := []string{"reference;name;email;phone"}
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("C%d;Name %d;;%d", i, i, i))
	}
	if _, err := c.run(t, lines...); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		ref := fmt.Sprintf("C%d", i)
		if _, ok := c.store.ByReference(ref); !ok {
			t.Errorf("%s not imported", ref)
		}
		_, evs := c.story(t, ref)
		if want := map[bool]int{true: 1, false: 0}[i < 3]; len(evs) != want {
			t.Errorf("%s: %d events in its history, want %d (the first 3 writes kept)", ref, len(evs), want)
		}
	}
}
