package state_test

import (
	"slices"
	"testing"
	"time"

	"erpsync/state"
)

// TestDB_KnownWindows: the windows hold about size known customers each
// (a cut falls at the first new second after its share),
// at least least of them, cover the whole span, never cut customers
// sharing a second apart, and their number follows the customers, not
// the seconds they span.
func TestDB_KnownWindows(t *testing.T) {
	db := MustOpenDB(t)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	var seen []state.Known
	for i := range 12 { // seconds 0,0,0,1,1,1,2,2,2,3,3,3; then one every hour
		seen = append(seen, state.Known{CRMID: int64(i + 1), LastUpdated: sec(i / 3)})
	}
	for i := range 6 {
		seen = append(seen, state.Known{CRMID: int64(100 + i), LastUpdated: sec(3600 * (i + 1))})
	}
	if err := db.SaveCounted(ctx, state.Counted{Unmanaged: seen}); err != nil {
		t.Fatal(err)
	}
	w := func(from, until time.Time, n int) state.KnownWindow {
		return state.KnownWindow{From: from, Until: until, Known: n}
	}
	for _, tc := range []struct {
		name        string
		from, until time.Time
		size, least int
		want        []state.KnownWindow
	}{
		{"six a window", time.Time{}, sec(4), 6, 1, []state.KnownWindow{w(time.Time{}, sec(2), 6), w(sec(2), sec(4), 6)}},
		{"at least three", time.Time{}, sec(4), 1000, 3,
			[]state.KnownWindow{w(time.Time{}, sec(2), 6), w(sec(2), sec(3), 3), w(sec(3), sec(4), 3)}},
		{"a second is never cut", sec(0), sec(4), 2, 1,
			[]state.KnownWindow{w(sec(0), sec(1), 3), w(sec(1), sec(2), 3), w(sec(2), sec(3), 3), w(sec(3), sec(4), 3)}},
		{"hours apart, as many as customers call for", sec(4), time.Time{}, 2, 1,
			[]state.KnownWindow{w(sec(4), sec(3*3600), 2), w(sec(3*3600), sec(5*3600), 2), w(sec(5*3600), time.Time{}, 2)}},
		{"nobody", sec(3600 * 7), time.Time{}, 3, 3, []state.KnownWindow{w(sec(3600*7), time.Time{}, 0)}},
	} {
		got, err := db.KnownWindows(ctx, tc.from, tc.until, tc.size, tc.least)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: KnownWindows =\n%v, %v; want\n%v", tc.name, got, err, tc.want)
		}
	}
}
