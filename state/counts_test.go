package state_test

import (
	"slices"
	"testing"
	"time"

	"erpsync/state"
)

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
