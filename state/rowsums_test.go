package state_test

import (
	"testing"

	"erpsync/state"
)

// sumsOf streams the checkpoint's row sums.
func sumsOf(t *testing.T, db *state.DB) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	err := db.HashSumsBetween(ctx, "", "", func(ref, _ string, sum uint64) error {
		out[ref] = sum
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDB_RowSums: a push keeps its row's sum (the top bit too), a push
// without one clears it, and SaveRowSums fills in only the records whose
// hash is still the one given.
func TestDB_RowSums(t *testing.T) {
	db := MustOpenDB(t)
	a, b, c := upsert("A", "ha", nil), upsert("B", "hb", nil), upsert("C", "hc", nil)
	a.RowSum, b.RowSum = 1<<63|5, 7
	MustWrite(t, db, a, b, c)
	got := sumsOf(t, db)
	mustEqual(t, "A's sum", got["A"], uint64(1<<63|5))
	mustEqual(t, "B's sum", got["B"], uint64(7))
	mustEqual(t, "C's sum", got["C"], uint64(0))

	b.RowSum = 0 // pushed again from a row that is not plain
	MustWrite(t, db, b)
	mustEqual(t, "B's sum after a push without one", sumsOf(t, db)["B"], uint64(0))

	err := db.SaveRowSums(ctx, []state.RowSum{
		{Reference: "B", Hash: "hb", Sum: 9},
		{Reference: "C", Hash: "stale", Sum: 11}, // C's hash is hc: left alone
		{Reference: "Z", Hash: "hz", Sum: 13},    // not managed: nothing to fill
	})
	if err != nil {
		t.Fatal(err)
	}
	got = sumsOf(t, db)
	mustEqual(t, "B's sum filled in", got["B"], uint64(9))
	mustEqual(t, "C's sum, its hash differing", got["C"], uint64(0))
	mustEqual(t, "references", len(got), 3)

	// Hashes still streams what it did.
	n := 0
	if err := db.Hashes(ctx, func(ref, hash string) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "hashes", n, 3)
}
