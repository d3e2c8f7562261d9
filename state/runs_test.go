package state_test

import (
	"reflect"
	"testing"
	"time"

	"erpsync/state"
)

func TestDB_Runs(t *testing.T) {
	db := MustOpenDB(t)
	now := fixedNow
	db.Now = func() time.Time { return now }
	id1, err := db.StartRun(ctx, "import", "day1.csv", "sha1")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(90 * time.Second)
	if err := db.FinishRun(ctx, id1, state.StatusDone, map[string]int{"create": 3}, ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	id2, _ := db.StartRun(ctx, "run", "day2.csv", "sha2")
	now = now.Add(time.Second)
	if err := db.FinishRun(ctx, id2, state.StatusFailed, nil, "CRM unreachable"); err != nil {
		t.Fatal(err)
	}
	id3, _ := db.StartRun(ctx, "run", "day3.csv", "sha3")

	runs, err := db.Runs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []state.Run{
		{ID: id3, Kind: "run", File: "day3.csv", FileSHA256: "sha3", Status: state.StatusRunning, Started: now, Counts: map[string]int{}},
		{ID: id2, Kind: "run", File: "day2.csv", FileSHA256: "sha2", Status: "failed", Started: now.Add(-time.Second), Ended: now,
			Counts: map[string]int{}, Error: "CRM unreachable"},
		{ID: id1, Kind: "import", File: "day1.csv", FileSHA256: "sha1", Status: "done", Started: fixedNow, Ended: fixedNow.Add(90 * time.Second),
			Counts: map[string]int{"create": 3}},
	}
	if !reflect.DeepEqual(runs, want) {
		t.Errorf("runs =\n%+v\nwant\n%+v", runs, want)
	}
	if runs, _ := db.Runs(ctx, 2); len(runs) != 2 || runs[0].ID != id3 || runs[1].ID != id2 {
		t.Errorf("Runs(2) = %+v", runs)
	}
	if runs, _ := db.Runs(ctx, 0); len(runs) != 3 {
		t.Errorf("Runs(0) = %d runs, want all 3", len(runs))
	}
	if err := db.FinishRun(ctx, 999, state.StatusDone, nil, ""); err == nil {
		t.Error("FinishRun of an unknown run succeeded")
	}
}
