package state_test

import (
	"testing"

	"erpsync/state"
)

// Guarantee: an export is the last synced only when the newest run took
// that very file (name and sha256) to the end; day 1's bytes after day 2
// are not.
func TestDB_SyncedLast(t *testing.T) {
	db := MustOpenDB(t)
	run := func(file, sha, status string) {
		t.Helper()
		id, err := db.StartRun(ctx, "run", file, sha)
		if err != nil {
			t.Fatal(err)
		}
		if status != state.StatusRunning {
			if err := db.FinishRun(ctx, id, status, nil, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	synced := func(file, sha string) bool {
		t.Helper()
		got, err := db.SyncedLast(ctx, file, sha)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []struct {
		name       string
		file, sha  string // the run recorded, "" for none
		status     string
		askFile    string
		askSHA     string
		wantSynced bool
	}{
		{"an empty history", "", "", "", "inbox/customers.csv", "d1", false},
		{"the same file again", "inbox/customers.csv", "d1", state.StatusDone, "inbox/customers.csv", "d1", true},
		{"another name, same bytes", "", "", "", "inbox/copy.csv", "d1", false},
		{"same name, other bytes", "", "", "", "inbox/customers.csv", "d2", false},
		{"day 2 synced", "inbox/customers.csv", "d2", state.StatusDoneFailures, "inbox/customers.csv", "d2", true},
		{"day 1's bytes after day 2", "", "", "", "inbox/customers.csv", "d1", false},
		{"a failed run of another file since", "inbox/other.csv", "d3", state.StatusFailed, "inbox/customers.csv", "d2", false},
		{"the same file, failed", "inbox/customers.csv", "d2", state.StatusFailed, "inbox/customers.csv", "d2", false},
		{"the same file, still running", "inbox/customers.csv", "d2", state.StatusRunning, "inbox/customers.csv", "d2", false},
	}
	for _, s := range steps {
		if s.file != "" {
			run(s.file, s.sha, s.status)
		}
		if got := synced(s.askFile, s.askSHA); got != s.wantSynced {
			t.Errorf("%s: SyncedLast(%s, %s) = %v, want %v", s.name, s.askFile, s.askSHA, got, s.wantSynced)
		}
	}
}
