package memstate_test

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"erpsync/state"
	"erpsync/state/memstate"
)

var ctx = context.Background()

// TestMem_LockHeartbeat: a held lock is renewed until it is released, also
// after the run's context is cancelled; a holder whose lock was freed
// meanwhile learns it at its next beat. The heartbeat's ticker runs on
// synctest's fake clock.
func TestMem_LockHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := memstate.New()
		defer m.Close()
		var mu gosync.Mutex
		clock := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
		m.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
		const beat = time.Minute
		m.LockHeartbeat = beat
		runCtx, cancel := context.WithCancel(ctx)
		l, err := m.Acquire(runCtx, "run")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		time.Sleep(beat)
		synctest.Wait()
		held, err := m.Holder(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !held.Heartbeat.After(l.Since) {
			t.Fatalf("heartbeat %s did not move past the lock's start %s after a beat", held.Heartbeat, l.Since)
		}
		if ok, err := m.Unlock(ctx, held); !ok || err != nil {
			t.Fatalf("Unlock = %v, %v", ok, err)
		}
		time.Sleep(beat)
		synctest.Wait()
		if !l.Lost() {
			t.Error("the holder did not notice at its next beat that its lock was freed")
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMem_Closed: after Close every operation fails, the writer's too,
// and a held lock stops renewing.
func TestMem_Closed(t *testing.T) {
	m := memstate.New()
	w := m.NewWriter(100, time.Hour)
	if err := w.Put(ctx, state.Outcome{Op: state.OpUpsert, Reference: "A", Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := w.Close(); err == nil {
		t.Error("the writer's batch was written after Close")
	}
	if _, err := m.Count(ctx); err == nil {
		t.Error("Count after Close succeeded")
	}
	if _, err := m.Acquire(ctx, "run"); err == nil {
		t.Error("Acquire after Close succeeded")
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestMem_Concurrent puts from many goroutines while others stream and
// read; run it with -race.
func TestMem_Concurrent(t *testing.T) {
	m := memstate.New()
	defer m.Close()
	w := m.NewWriter(7, time.Hour)
	var wg gosync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				o := state.Outcome{Op: state.OpUpsert, Reference: fmt.Sprintf("G%d-%02d", g, i), Hash: "h",
					Values: map[string]string{"n": fmt.Sprint(i)}}
				if err := w.Put(ctx, o); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				err := m.Hashes(ctx, func(ref, _ string) error {
					_, err := m.Get(ctx, ref) // a stream's callback may read the checkpoint
					return err
				})
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Count(ctx); err != nil || n != 200 {
		t.Errorf("Count = %d, %v; want 200", n, err)
	}
}
