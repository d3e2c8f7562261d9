package compact

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLockMigration_OneAtATime: a second migration of a checkpoint waits
// while the first holds its lock (here until its context ends), takes it
// once the first lets it go, and leaves no lock file behind.
func TestLockMigration_OneAtATime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erpsync.db")
	unlock, err := lockMigration(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*lockPoll)
	defer cancel()
	if _, err := lockMigration(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a second lock while the first is held: %v, want it to wait until its context ends", err)
	}
	got := make(chan error, 1)
	go func() {
		again, err := lockMigration(context.Background(), path)
		if err == nil {
			again()
		}
		got <- err
	}()
	time.Sleep(2 * lockPoll) // waiting on the file the first holds
	unlock()                 // removes that file, then lets it go
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("the lock after the first let it go: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lock was never taken after the first let it go")
	}
	if _, err := os.Lstat(Lock(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left: %v", Lock(path), err)
	}
}

// TestRemoveLeft_NotWhileMigrating: the new file left beside a checkpoint
// is removed when no migration holds the lock, and kept while one does:
// another process's copy goes on into it (a process that had migrated
// the checkpoint removed it under another's copy, whose next statement
// failed with a disk I/O error).
func TestRemoveLeft_NotWhileMigrating(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erpsync.db")
	if err := os.WriteFile(Next(path), []byte("copying"), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockMigration(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := RemoveLeft(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Next(path)); err != nil {
		t.Errorf("the new file of a migration under way was removed: %v", err)
	}
	unlock()
	if err := RemoveLeft(path); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{Next(path), Lock(path)} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	// Nothing left (every open of a migrated checkpoint): the folder is
	// not written, so that one that is not writable still opens (its time
	// set back first: a file created and removed would change it).
	dir, past := filepath.Dir(path), time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(dir, past, past); err != nil {
		t.Fatal(err)
	}
	if err := RemoveLeft(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.ModTime().Equal(past) {
		t.Errorf("RemoveLeft with nothing left wrote the folder (%v, %v)", fi.ModTime(), err)
	}
}

// TestLockOnce_RemovedFileNotHeld: a process that opened the lock's file
// before its holder removed it and let it go gets that file's flock, but
// holds nothing (same): the lock is the file at the name now, which
// another takes while the first's is still flocked.
func TestLockOnce_RemovedFileNotHeld(t *testing.T) {
	name := Lock(filepath.Join(t.TempDir(), "erpsync.db"))
	f, held, err := lockOnce(name)
	if err != nil || !held {
		t.Fatalf("first lock: held %v, %v", held, err)
	}
	waiter, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	unlocker(f, name)() // removes the file, then lets its flock go
	if err := syscall.Flock(int(waiter.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("the removed file's flock after its holder let it go: %v", err)
	}
	if same(waiter, name) {
		t.Errorf("the removed file is taken for the file at its name")
	}
	g, held, err := lockOnce(name)
	if err != nil || !held {
		t.Fatalf("the lock while only a removed file is flocked: held %v, %v", held, err)
	}
	if _, again, _ := lockOnce(name); again {
		t.Errorf("the lock taken twice")
	}
	unlocker(g, name)()
}
