package state_test

import (
	"slices"
	"testing"
	"time"

	"erpsync/state"
)

// TestDB_SaveCounted_ForgetThenSee: a customer whose key changed (it lost
// or gained its reference by hand) is both forgotten under its old key and
// seen under its new one, with the same crm id, in one save: it stays
// known, at its new time.
func TestDB_SaveCounted_ForgetThenSee(t *testing.T) {
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ name, before, after string }{
		{"reference removed", "HAND-1", ""},
		{"reference given", "", "HAND-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			if err := db.SaveCounted(ctx, state.Counted{Unmanaged: []state.Known{{Reference: tc.before, CRMID: 42, LastUpdated: at}}}); err != nil {
				t.Fatal(err)
			}
			moved := at.Add(time.Hour)
			err := db.SaveCounted(ctx, state.Counted{At: moved, Forget: []int64{42},
				Unmanaged: []state.Known{{Reference: tc.after, CRMID: 42, LastUpdated: moved}}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.KnownIn(ctx, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			want := []state.Known{{Reference: tc.after, CRMID: 42, LastUpdated: moved}}
			if !slices.Equal(got, want) {
				t.Errorf("known after the save: %+v, want %+v", got, want)
			}
		})
	}
}

// TestDB_KnownBounds: the cuts split the known customers in parts of
// about equal numbers, strictly inside the window, one per second at most.
func TestDB_KnownBounds(t *testing.T) {
	db := MustOpenDB(t)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var seen []state.Known
	for i := range 9 { // seconds 0,0,0,1,1,1,2,2,2 … by three
		seen = append(seen, state.Known{CRMID: int64(i + 1), LastUpdated: base.Add(time.Duration(i/3) * time.Second)})
	}
	if err := db.SaveCounted(ctx, state.Counted{Unmanaged: seen}); err != nil {
		t.Fatal(err)
	}
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	for _, tc := range []struct {
		name      string
		from, til time.Time
		parts     int
		want      []time.Time
	}{
		{"thirds", time.Time{}, time.Time{}, 3, []time.Time{sec(1), sec(2)}},
		{"more parts than seconds", time.Time{}, time.Time{}, 9, []time.Time{sec(1), sec(2)}},
		{"never the window's start", sec(1), time.Time{}, 2, []time.Time{sec(2)}},
		{"one part", time.Time{}, time.Time{}, 1, nil},
		{"nobody", sec(5), time.Time{}, 3, nil},
	} {
		got, err := db.KnownBounds(ctx, tc.from, tc.til, tc.parts)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: KnownBounds = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// TestDB_KnownByReferences answers, for many references in one
// statement, what KnownByReference answers for each: managed, unmanaged
// only, both (managed wins), deleted by hand (then not known as managed),
// unknown, and references that need quoting.
func TestDB_KnownByReferences(t *testing.T) {
	db := MustOpenDB(t)
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	a, b, gone, odd := upsert("A", "ha", nil), upsert("B", "hb", nil), upsert("GONE", "hg", nil), upsert(`Q"uote\ ü`, "hq", nil)
	a.CRMID, b.CRMID, gone.CRMID, odd.CRMID = 1, 2, 3, 4
	MustWrite(t, db, a, b, gone, odd)
	err := db.SaveCounted(ctx, state.Counted{At: at,
		Unmanaged: []state.Known{{Reference: "B", CRMID: 20, LastUpdated: at}, {Reference: "U", CRMID: 21, LastUpdated: at}},
		Gone:      []state.Known{{Reference: "GONE", CRMID: 3, LastUpdated: gone.CRMLastUpdated}}})
	if err != nil {
		t.Fatal(err)
	}
	refs := []string{"A", "B", "U", "GONE", "NONE", `Q"uote\ ü`, ""}
	many, err := db.KnownByReferences(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		one, ok, err := db.KnownByReference(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		got, found := many[ref]
		if found != ok || got != one {
			t.Errorf("%q: many %+v (%v), one %+v (%v)", ref, got, found, one, ok)
		}
	}
	mustEqual(t, "known of 7", len(many), 4) // A, B (managed), U, the quoted one
}
