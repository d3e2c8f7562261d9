package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// TestProcess_KilledRunHistoryAgrees (issue 24 §2): a run killed with
// SIGKILL once the checkpoint holds some of its outcomes has saved the
// history events of exactly the writes it recorded, no more, no fewer;
// after the run that resumes it, every customer has one create event,
// of the run that recorded its create.
func TestProcess_KilledRunHistoryAgrees(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := crmsimProcess(t, "-latency", "20ms")
	export := export400(t, dir)
	cfg := processConfig(t, dir, base, "concurrency: 8=concurrency: 4")

	cmd := exec.Command(bins.erpsync, "run", "-config", cfg, "-file", export)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUpserts(t, base, cmd, 1) // the checkpoint is open and migrated
	db := sqlite.NewDB(filepath.Join(dir, "erpsync.db"))
	if err := db.Open(context.Background()); err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, err := db.Count(context.Background()); err == nil && n > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no outcome recorded in 30 s")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	recorded, created := historyOfRecords(t, db)
	if recorded >= 400 {
		t.Fatalf("the run had finished (%d records) before the kill", recorded)
	}
	if created[1] != recorded || len(created) != 1 {
		t.Errorf("after the kill: %d records, create events by run %v; want %d of run 1", recorded, created, recorded)
	}

	if code, out := erpsyncProcess(t, nil, "run", "-config", cfg, "-file", export); code != ExitOK {
		t.Fatalf("rerun exit %d\n%s", code, out)
	}
	all, after := historyOfRecords(t, db)
	if all != 400 || after[1] != recorded || after[1]+after[2] != all {
		t.Errorf("after the rerun: %d records, create events by run %v; want 400, %d of run 1, the rest of run 2", all, after, recorded)
	}
	t.Logf("killed with %d records; the rerun recorded %d", recorded, all-recorded)
}

// historyOfRecords counts the checkpoint's records and, by run, their
// create events; a record without exactly one create event is an error.
func historyOfRecords(t *testing.T, db *sqlite.DB) (int, map[int64]int) {
	t.Helper()
	ctx := context.Background()
	var refs []string
	if err := db.Records(ctx, func(r state.Record) error {
		refs = append(refs, r.Reference)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	created := map[int64]int{}
	missing := 0
	for _, ref := range refs {
		evs, err := db.History(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Kind == state.EventCreated {
				n++
				created[e.RunID]++
			}
		}
		if n != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d records have not exactly one create event", missing, len(refs))
	}
	return len(refs), created
}
