package mapping_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"erpsync/mapping"
)

// manyRows is an export of n plain rows for sapConfig: more than one
// batch of a read (pipeline.go's batchSize is 2048).
func manyRows(n int) string {
	var b strings.Builder
	b.WriteString(sapHeader)
	for i := range n {
		fmt.Fprintf(&b, "C%d;Name %d;FR;;;;;;;;;;\n", i, i)
	}
	return b.String()
}

// mapPanic maps r and returns what Map panicked with, "" for nothing.
func mapPanic(r mapping.Row) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprint(p)
		}
	}()
	r.Map()
	return ""
}

// TestReadLazy_StaleRowFailsLoudly: a lazy row points into its batch's
// memory, which the read uses again for later records once the batch's
// rows were delivered. Mapped then, it would map another row's cells (or
// none): in tests it panics, naming the misuse; mapped in time, it maps.
func TestReadLazy_StaleRowFailsLoudly(t *testing.T) {
	m := mustMapping(t, sapConfig())
	path := writeExport(t, manyRows(5000))
	var first mapping.Row
	n := 0
	var during string
	_, err := m.ReadLazy(context.Background(), path, func(r mapping.Row) error {
		n++
		switch n {
		case 1:
			if !r.Lazy() {
				t.Fatalf("row 1 is not lazy: %+v", r)
			}
			first = r
		case 2:
			if got := mapPanic(first); got != "" { // its batch is still being delivered
				t.Errorf("row 1 mapped while its batch is delivered: panic %q", got)
			}
		case 4500: // two batches later: row 1's cells hold later records'
			during = mapPanic(first)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []string{during, mapPanic(first)} { // during the read; after it
		if !strings.Contains(got, "line 2") || !strings.Contains(got, "after its batch was reused") {
			t.Errorf("stale lazy row mapped: panic %q; want one naming line 2 and the reuse", got)
		}
	}
}

// TestReadLazy_StaleRowIsARowErrorOutsideTests: outside tests, a lazy row
// mapped too late does not stop the process: it is a row error naming
// its line, so the row fails, is reported and is planned again next run.
func TestReadLazy_StaleRowIsARowErrorOutsideTests(t *testing.T) {
	defer mapping.StaleRowPanics(false)()
	m := mustMapping(t, sapConfig())
	var first mapping.Row
	if _, err := m.ReadLazy(context.Background(), writeExport(t, manyRows(10)), func(r mapping.Row) error {
		if r.Line == 2 {
			first = r
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := first.Map()
	if got.Customer != nil || got.Err == nil || got.Err.Line != 2 || got.Err.Reference != "C0" ||
		!strings.Contains(got.Err.Error(), "after its batch was reused") {
		t.Errorf("stale lazy row mapped to %+v (error %v); want a row error of line 2, C0", got, got.Err)
	}
}
