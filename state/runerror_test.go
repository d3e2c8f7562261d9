package state_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"erpsync/state"
)

// Issue 26 follow-up §6: a run's error text may hold a CRM's answer of
// any length; the run history keeps at most MaxRunError bytes of it, cut
// on a character's boundary and marked with the length it had.
func TestDB_RunErrorBounded(t *testing.T) {
	db := MustOpenDB(t)
	id, err := db.StartRun(ctx, "run", "day1.csv", "sha1")
	if err != nil {
		t.Fatal(err)
	}
	long := "upsert customer C1: 400 " + strings.Repeat("é", 100_000) // 2 bytes a character
	if err := db.FinishRun(ctx, id, state.StatusFailed, nil, long); err != nil {
		t.Fatal(err)
	}
	runs, err := db.Runs(ctx, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	got := runs[0].Error
	if len(got) > state.MaxRunError+64 || !utf8.ValidString(got) || !strings.HasPrefix(got, "upsert customer C1: 400 é") ||
		!strings.Contains(got, "200024 bytes in all") {
		t.Errorf("stored error: %d bytes, valid UTF-8 %v, ends %q; want at most %d, cut and marked",
			len(got), utf8.ValidString(got), got[max(0, len(got)-60):], state.MaxRunError)
	}
	if short := state.ClipRunError("CRM unreachable"); short != "CRM unreachable" {
		t.Errorf("a short error changed: %q", short)
	}
}
