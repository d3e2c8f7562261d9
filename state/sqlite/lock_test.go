package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"erpsync/state"
	"erpsync/state/runlock"
	"erpsync/state/sqlite"
)

func TestDB_Acquire(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	t.Run("a second run is refused, naming the holder", func(t *testing.T) {
		db := MustOpenDB(t)
		lock, err := db.Acquire(ctx, "run")
		if err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		// Another process would open the file on its own.
		other := sqlite.NewDB(db.Path)
		if err := other.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, err = other.Acquire(ctx, "import")
		var le *state.LockedError
		if !errors.As(err, &le) {
			t.Fatalf("second Acquire: %v, want a *LockedError", err)
		}
		mustEqual(t, "PID", le.PID, os.Getpid())
		mustEqual(t, "Host", le.Host, host)
		mustEqual(t, "Kind", le.Kind, "run")
		mustEqual(t, "Since", le.Since, fixedNow)
		for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "2026-03-01T02:00:00Z", "run"} {
			if !strings.Contains(le.Error(), want) {
				t.Errorf("message %q does not say %q", le.Error(), want)
			}
		}
		if err := lock.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if err := lock.Release(ctx); err != nil {
			t.Errorf("second Release: %v", err)
		}
		l2, err := other.Acquire(ctx, "import")
		if err != nil {
			t.Fatalf("after Release: %v", err)
		}
		if l2.TookOver != nil {
			t.Errorf("TookOver = %+v after a clean release", l2.TookOver)
		}
		// The first holder's late Release does not free the second's lock.
		if err := lock.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Acquire(ctx, "run"); !errors.As(err, &le) {
			t.Errorf("Acquire after a stale Release: %v, want a *LockedError", err)
		}
	})

	t.Run("the lock of a dead process of this host is taken over", func(t *testing.T) {
		db := MustOpenDB(t)
		host, _ := os.Hostname()
		dead := deadPID(t)
		if _, err := rawDB(t, db.Path).Exec(`INSERT INTO lock (id, pid, host, kind, since) VALUES (1, ?, ?, 'import', ?)`,
			dead, host, fixedNow.Add(-time.Hour).Unix()); err != nil {
			t.Fatal(err)
		}
		l, err := db.Acquire(ctx, "run")
		if err != nil {
			t.Fatal(err)
		}
		if l.TookOver == nil {
			t.Fatal("TookOver = nil")
		}
		mustEqual(t, "TookOver.PID", l.TookOver.PID, dead)
		mustEqual(t, "TookOver.Kind", l.TookOver.Kind, "import")
		mustEqual(t, "TookOver.Since", l.TookOver.Since, fixedNow.Add(-time.Hour))
		mustEqual(t, "PID", l.PID, os.Getpid())
		// And it is ours now.
		var le *state.LockedError
		if _, err := db.Acquire(ctx, "run"); !errors.As(err, &le) || le.PID != os.Getpid() {
			t.Errorf("Acquire after the takeover: %v", err)
		}
	})

	t.Run("the lock of another host is not taken over", func(t *testing.T) {
		db := MustOpenDB(t)
		if _, err := rawDB(t, db.Path).Exec(`INSERT INTO lock (id, pid, host, kind, since) VALUES (1, ?, 'elsewhere', 'run', 1)`,
			deadPID(t)); err != nil {
			t.Fatal(err)
		}
		var le *state.LockedError
		if _, err := db.Acquire(ctx, "run"); !errors.As(err, &le) || le.Host != "elsewhere" {
			t.Errorf("Acquire = %v, want held by elsewhere", err)
		}
	})

	t.Run("of processes racing, one wins", func(t *testing.T) {
		db := MustOpenDB(t)
		var wg gosync.WaitGroup
		var mu gosync.Mutex
		won, lost := 0, 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				other := sqlite.NewDB(db.Path)
				if err := other.Open(ctx); err != nil {
					t.Error(err)
					return
				}
				defer other.Close()
				_, err := other.Acquire(ctx, "run")
				var le *state.LockedError
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.As(err, &le):
					lost++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != 7 {
			t.Errorf("won %d, lost %d; want 1 and 7", won, lost)
		}
	})
}

func TestDB_AcquireGoneHolders(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	host, _ := os.Hostname()
	insert := func(t *testing.T, db *sqlite.DB, pid int, host string, pidStart int64, heartbeat time.Time) {
		t.Helper()
		if _, err := rawDB(t, db.Path).Exec(`INSERT INTO lock (id, pid, host, kind, since, pid_start, heartbeat) VALUES (1, ?, ?, 'serve', ?, ?, ?)`,
			pid, host, fixedNow.Add(-time.Hour).Unix(), pidStart, heartbeat.Unix()); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("this pid with another start (a restarted container) is taken over", func(t *testing.T) {
		if _, err := os.Stat("/proc/self/stat"); err != nil {
			t.Skip("no /proc: process starts cannot be read here")
		}
		db := MustOpenDB(t)
		insert(t, db, os.Getpid(), host, 1, fixedNow) // our pid, but no process started at tick 1
		l, err := db.Acquire(ctx, "run")
		if err != nil {
			t.Fatalf("Acquire: %v, want the lock of the earlier process with our pid taken over", err)
		}
		defer l.Release(ctx)
		if l.TookOver == nil || l.TookOver.PID != os.Getpid() {
			t.Errorf("TookOver = %+v", l.TookOver)
		}
	})

	t.Run("a lock of another pid namespace under our host name goes by its renewals", func(t *testing.T) {
		db := MustOpenDB(t)
		// Another container with our host name: its pids are not ours to see.
		if _, err := rawDB(t, db.Path).Exec(`INSERT INTO lock (id, pid, host, kind, since, pid_start, pid_ns, heartbeat) VALUES (1, ?, ?, 'serve', ?, 1, 'pid:[1]', ?)`,
			deadPID(t), host, fixedNow.Add(-time.Hour).Unix(), fixedNow.Add(-time.Minute).Unix()); err != nil {
			t.Fatal(err)
		}
		var le *state.LockedError
		if _, err := db.Acquire(ctx, "run"); !errors.As(err, &le) {
			t.Fatalf("Acquire = %v, want a *LockedError while it renews", err)
		}
		held, _ := db.Holder(ctx)
		if db.Visible(held) || db.Gone(held) {
			t.Errorf("Visible %v, Gone %v; want neither", db.Visible(held), db.Gone(held))
		}
		db.Now = func() time.Time { return fixedNow.Add(runlock.StaleAfter) }
		l, err := db.Acquire(ctx, "run")
		if err != nil {
			t.Fatalf("Acquire once stale: %v", err)
		}
		l.Release(ctx)
	})

	t.Run("a lock of an older erpsync with our pid is taken over", func(t *testing.T) {
		if _, err := os.Stat("/proc/self/stat"); err != nil {
			t.Skip("no /proc: process starts cannot be read here")
		}
		db := MustOpenDB(t)
		// Written before migration 003: no start, no renewal. Our pid: a
		// restarted container, pid 1 again.
		if _, err := rawDB(t, db.Path).Exec(`INSERT INTO lock (id, pid, host, kind, since) VALUES (1, ?, ?, 'serve', ?)`,
			os.Getpid(), host, fixedNow.Add(-time.Hour).Unix()); err != nil {
			t.Fatal(err)
		}
		if held, err := db.Holder(ctx); err != nil || !db.Gone(held) {
			t.Fatalf("Gone = false for %+v, %v", held, err)
		}
		l, err := db.Acquire(ctx, "run")
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		l.Release(ctx)
	})

	t.Run("another host's lock is taken over once it is stale", func(t *testing.T) {
		db := MustOpenDB(t)
		insert(t, db, 7, "elsewhere", 0, fixedNow.Add(-time.Minute))
		var le *state.LockedError
		_, err := db.Acquire(ctx, "run")
		if !errors.As(err, &le) || le.Host != "elsewhere" || !le.Heartbeat.Equal(fixedNow.Add(-time.Minute)) {
			t.Fatalf("Acquire = %v, want held by elsewhere, renewed a minute ago", err)
		}
		if !strings.Contains(err.Error(), "erpsync unlock") {
			t.Errorf("message %q does not say how to free the file", err)
		}
		db.Now = func() time.Time { return fixedNow.Add(runlock.StaleAfter) }
		l, err := db.Acquire(ctx, "run")
		if err != nil {
			t.Fatalf("Acquire once stale: %v", err)
		}
		defer l.Release(ctx)
		if l.TookOver == nil || l.TookOver.Host != "elsewhere" {
			t.Errorf("TookOver = %+v", l.TookOver)
		}
	})

	t.Run("Holder and Unlock", func(t *testing.T) {
		db := MustOpenDB(t)
		if held, err := db.Holder(ctx); err != nil || held != nil {
			t.Fatalf("Holder of a free file = %+v, %v", held, err)
		}
		insert(t, db, 7, "elsewhere", 0, fixedNow)
		held, err := db.Holder(ctx)
		if err != nil || held == nil || held.Host != "elsewhere" || held.PID != 7 || held.Kind != "serve" {
			t.Fatalf("Holder = %+v, %v", held, err)
		}
		if ok, err := db.Unlock(ctx, held); !ok || err != nil {
			t.Fatalf("Unlock = %v, %v", ok, err)
		}
		if ok, err := db.Unlock(ctx, held); ok || err != nil {
			t.Errorf("second Unlock = %v, %v; want false", ok, err)
		}
		l, err := db.Acquire(ctx, "run")
		if err != nil || l.TookOver != nil {
			t.Fatalf("Acquire after Unlock: %+v, %v", l, err)
		}
		l.Release(ctx)
	})
}

// TestLock_Heartbeat: a held lock is renewed until it is released, also
// after the run's context is cancelled; a holder whose lock was freed
// meanwhile learns it. The heartbeat's ticker runs on synctest's fake
// clock: each beat is one Sleep away, and synctest.Wait returns once the
// beat's write is done.
func TestLock_Heartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := MustOpenDB(t)
		var mu gosync.Mutex
		clock := fixedNow
		db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
		const beat = time.Minute
		db.LockHeartbeat = beat
		runCtx, cancel := context.WithCancel(ctx)
		l, err := db.Acquire(runCtx, "run")
		if err != nil {
			t.Fatal(err)
		}
		cancel() // interrupted: the run drains, its hold must stay renewed
		time.Sleep(beat)
		synctest.Wait()
		held, err := db.Holder(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !held.Heartbeat.After(l.Since) {
			t.Fatalf("heartbeat %s did not move past the lock's start %s after a beat", held.Heartbeat, l.Since)
		}
		if l.Lost() {
			t.Error("Lost while it holds the lock")
		}
		// Freed by hand meanwhile: the next renewal finds it gone.
		if ok, err := db.Unlock(ctx, held); !ok || err != nil {
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
		if held, err := db.Holder(ctx); err != nil || held != nil {
			t.Errorf("after Release: holder %+v, %v", held, err)
		}
	})
}
