package sync_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
)

// engineJob is a sync.Job over a generated export of rows, a crmsim with
// latency called in-process (crmmem) and a new checkpoint on disk.
func engineJob(t *testing.T, rows int, latency time.Duration) (sync.Job, *crmsim.Server) {
	t.Helper()
	return engineJobOn(t, testrig.SQLite, rows, latency)
}

// engineJobOn is engineJob on a checkpoint of impl.
func engineJobOn(t *testing.T, impl testrig.Impl, rows int, latency time.Duration) (sync.Job, *crmsim.Server) {
	t.Helper()
	dir := t.TempDir()
	day1, _, err := genexport.WriteFiles(dir, genexport.Options{Rows: rows, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	client, sim := testrig.NewFake(t, crmsim.Options{Latency: latency})
	db := testrig.NewCheckpoint(t, impl, nil, 10*time.Millisecond)
	return sync.Job{Mode: sync.ModeRun, File: day1, Mapping: m, CRM: client, State: db, Log: zap.NewNop(),
		Settings: sync.Settings{Concurrency: 2, MaxFailures: plan.Limit{Percent: 10, IsPercent: true},
			MaxDelete: guard.On(plan.Limit{Percent: 5, IsPercent: true}), ReportsDir: filepath.Join(dir, "reports")}}, sim
}

// TestRun_LostLockStops: a run whose lock is taken over meanwhile (unlock
// -force from another process) stops scheduling at once and ends fatal,
// instead of going on beside the new holder.
func TestRun_LostLockStops(t *testing.T) {
	const rows = 400
	job, sim := engineJob(t, rows, 5*time.Millisecond)
	other := sqlite.NewDB(job.State.(*sqlite.DB).Path)
	if err := other.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	done := make(chan error, 1)
	go func() {
		_, err := sync.Run(context.Background(), job)
		done <- err
	}()
	// Wait (bounded) until the run is sending, then free its lock under it.
	deadline := time.Now().Add(10 * time.Second)
	for sim.Stats()[crm.OpUpsert] < 10 {
		if time.Now().After(deadline) {
			t.Fatal("the run never started sending")
		}
		time.Sleep(time.Millisecond)
	}
	held, err := other.Holder(context.Background())
	if err != nil || held == nil {
		t.Fatalf("Holder = %v, %v", held, err)
	}
	if ok, err := other.Unlock(context.Background(), held); !ok || err != nil {
		t.Fatalf("Unlock = %v, %v", ok, err)
	}
	err = <-done
	if !errors.Is(err, sync.ErrLockLost) || sync.Classify(err) != sync.ClassFatal {
		t.Fatalf("Run = %v (class %d), want ErrLockLost, fatal", err, sync.Classify(err))
	}
	if sent := sim.Stats()[crm.OpUpsert]; sent >= rows {
		t.Errorf("the run sent all %d upserts after losing its lock", sent)
	}
}

// TestRun_DamagedCheckpointStopsBeforeWriting: a checkpoint whose record
// pages are damaged, opened with its page check deferred (as erpsync run
// opens it), ends the run fatal, naming the damage, before any write to
// the CRM.
func TestRun_DamagedCheckpointStopsBeforeWriting(t *testing.T) {
	job, sim := engineJob(t, 300, 0)
	for _, mode := range []sync.Mode{sync.ModeImport, sync.ModeRun} { // the run after an import reads records
		job.Mode = mode
		if _, err := sync.Run(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	path := job.State.(*sqlite.DB).Path
	if err := job.State.(*sqlite.DB).Close(); err != nil {
		t.Fatal(err)
	}
	damageDeletedTable(t, path)
	db := sqlite.NewDB(path)
	db.DeferCheck = true
	if err := db.Open(context.Background()); err != nil {
		t.Fatalf("Open with the check deferred: %v", err)
	}
	defer db.Close()
	job.State, job.Mode = db, sync.ModeRun
	job.File = filepath.Join(filepath.Dir(job.File), "day2.csv") // with changes to send
	writes := sim.Stats()[crm.OpUpsert] + sim.Stats()[crm.OpDelete]
	_, err := sync.Run(context.Background(), job)
	if sync.Classify(err) != sync.ClassFatal || err == nil || !strings.Contains(err.Error(), "malformed") && !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Run = %v (class %d), want fatal, naming the damage", err, sync.Classify(err))
	}
	if now := sim.Stats()[crm.OpUpsert] + sim.Stats()[crm.OpDelete]; now != writes {
		t.Errorf("%d writes reached the CRM from a damaged checkpoint", now-writes)
	}
	// Once the damage is found, nothing more is written to the file: the
	// run's row keeps its start, the lock its holder.
	raw, err := sql.Open("sqlite3", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var status string
	var locks int
	if err := raw.QueryRow(`SELECT status, (SELECT count(*) FROM lock) FROM runs ORDER BY id DESC LIMIT 1`).Scan(&status, &locks); err != nil {
		t.Fatal(err)
	}
	if status != state.StatusRunning || locks != 1 {
		t.Errorf("after the damage was found: the run's status %q, %d lock rows; want it as it started (running, 1)", status, locks)
	}
}

// TestPlan_SkipsThePageCheck: a plan writes nothing, so the page check
// of the whole checkpoint (quick_check) cannot change its outcome; it is
// left to the run, which must not write to a damaged file. A plan over a
// checkpoint damaged where no plan reads (the deleted customers' copies)
// gives the plan of the sound file, and does not stop on the damage; the
// run of the same file still stops before any write.
func TestPlan_SkipsThePageCheck(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and folder
	job, sim := engineJob(t, 300, 0)
	for _, mode := range []sync.Mode{sync.ModeImport, sync.ModeRun} {
		job.Mode = mode
		if _, err := sync.Run(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	path := job.State.(*sqlite.DB).Path
	if err := job.State.(*sqlite.DB).Close(); err != nil {
		t.Fatal(err)
	}
	job.File = filepath.Join(filepath.Dir(job.File), "day2.csv")
	planOf := func() (*sync.Outcome, error) {
		db := sqlite.NewDB(path)
		db.DeferCheck = true // as erpsync plan opens it
		if err := db.Open(context.Background()); err != nil {
			t.Fatalf("Open with the check deferred: %v", err)
		}
		defer db.Close()
		job.State, job.Mode = db, sync.ModePlan
		return sync.Run(context.Background(), job)
	}
	sound, err := planOf()
	if err != nil {
		t.Fatal(err)
	}
	damageDeletedTable(t, path)
	damaged, err := planOf()
	if err != nil {
		t.Fatalf("plan over pages it does not read, damaged: %v; want the plan of the sound file", err)
	}
	for _, op := range []plan.Op{plan.OpCreate, plan.OpUpdate, plan.OpDelete} {
		if a, b := sound.Plan.Count(op), damaged.Plan.Count(op); a != b {
			t.Errorf("%s: %d planned over the damaged file, %d over the sound one", op, b, a)
		}
	}
	if sound.Plan.Unchanged != damaged.Plan.Unchanged || sound.Plan.Managed != damaged.Plan.Managed {
		t.Errorf("unchanged %d, managed %d; the sound file's: %d, %d", damaged.Plan.Unchanged, damaged.Plan.Managed,
			sound.Plan.Unchanged, sound.Plan.Managed)
	}
	writes := sim.Stats()[crm.OpUpsert] + sim.Stats()[crm.OpDelete]
	db := sqlite.NewDB(path)
	db.DeferCheck = true
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	job.State, job.Mode = db, sync.ModeRun
	if _, err := sync.Run(context.Background(), job); sync.Classify(err) != sync.ClassFatal {
		t.Fatalf("run over the damaged file = %v (class %d), want fatal", err, sync.Classify(err))
	}
	if now := sim.Stats()[crm.OpUpsert] + sim.Stats()[crm.OpDelete]; now != writes {
		t.Errorf("%d writes reached the CRM from a damaged checkpoint", now-writes)
	}
}

// damageDeletedTable overwrites the head of the root page of the table
// of deleted customers' copies, which no step of a run with nothing to
// delete reads, nor any plan: only the page check can find it.
func damageDeletedTable(t *testing.T, path string) {
	t.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	var root int
	err = raw.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'deleted'`).Scan(&root)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := (root - 1) * 16384; i < (root-1)*16384+64; i++ {
		data[i] = 0xA5
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
