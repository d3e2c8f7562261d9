package sqlite_test

import (
	"fmt"
	"maps"
	"testing"

	"erpsync/state"
)

// TestDB_ValuesOf: the values of many references read at once are those
// Values reads of each, once each, whatever else the list holds (a
// reference not managed, one twice, one needing JSON's escapes).
func TestDB_ValuesOf(t *testing.T) {
	t.Parallel()
	db := MustOpenDB(t)
	refs := []string{`Q"1`, `back\slash`, "Zürich-1", "<&>", "K0001"}
	for i := range 300 {
		refs = append(refs, fmt.Sprintf("K%04d", i+2))
	}
	var outs []state.Outcome
	for i, ref := range refs {
		outs = append(outs, upsert(ref, fmt.Sprintf("h%d", i), map[string]string{"name": "N" + ref, "city": fmt.Sprint(i % 7)}))
	}
	MustWrite(t, db, outs...)
	ask := append([]string{"not-managed", "K0001"}, refs...)
	got := map[string]map[string]string{}
	err := db.ValuesOf(ctx, ask, func(ref string, vals map[string]string) error {
		if _, twice := got[ref]; twice {
			t.Errorf("%s given twice", ref)
		}
		got[ref] = vals
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(refs) {
		t.Errorf("%d references given, want %d", len(got), len(refs))
	}
	for _, ref := range refs {
		want, err := db.Values(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got[ref], want) {
			t.Errorf("%s: %v, want %v", ref, got[ref], want)
		}
	}
	if err := db.ValuesOf(ctx, nil, nil); err != nil {
		t.Errorf("no reference: %v", err)
	}
}
