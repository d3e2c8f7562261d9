package sync_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// engineJob is a sync.Job over a generated export of rows, a crmsim with
// latency on loopback and a new checkpoint.
func engineJob(t *testing.T, rows int, latency time.Duration) (sync.Job, *crmsim.Server) {
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
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	sim := crmsim.New(store, crmsim.Options{Latency: latency})
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	db := state.NewDB(filepath.Join(dir, "erpsync.db"))
	db.LockHeartbeat = 10 * time.Millisecond
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sync.Job{Mode: sync.ModeRun, File: day1, Mapping: m, CRM: client, State: db, Log: zap.NewNop(),
		Settings: sync.Settings{Concurrency: 2, MaxFailures: sync.Limit{Percent: 10, IsPercent: true},
			MaxDelete: sync.Limit{Percent: 5, IsPercent: true}, ReportsDir: filepath.Join(dir, "reports")}}, sim
}

// TestRun_LostLockStops: a run whose lock is taken over meanwhile (unlock
// -force from another process) stops scheduling at once and ends fatal,
// instead of going on beside the new holder.
func TestRun_LostLockStops(t *testing.T) {
	const rows = 400
	job, sim := engineJob(t, rows, 5*time.Millisecond)
	other := state.NewDB(job.State.Path)
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
