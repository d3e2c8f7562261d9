package compact

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Lock is the file beside the checkpoint at path whose lock (flock) one
// migration at a time holds, from its copy to its install. Two processes
// that opened an old checkpoint together used to copy into the same new
// file and Part at once, and could each wait for a lock the other held
// until their busy timeouts (InstallWait, 10 minutes): one's part copy
// holding Part while it added a field name to the new file, the other's
// holding a read of the new file while it readied Part. Now the second
// waits for the first's end, then finds the checkpoint migrated.
func Lock(path string) string { return Next(path) + "-lock" }

// lockPoll is how often a migration waiting for another's tries the lock.
const lockPoll = 50 * time.Millisecond

// lockMigration takes the lock of the checkpoint at path, waiting for
// another process's migration at most InstallWait and as long as ctx
// allows.
func lockMigration(ctx context.Context, path string) (unlock func(), err error) {
	name := Lock(path)
	deadline := time.Now().Add(InstallWait)
	for {
		f, held, err := lockOnce(name)
		switch {
		case err != nil:
			return nil, err
		case held:
			return unlocker(f, name), nil
		case time.Now().After(deadline):
			return nil, fmt.Errorf("lock the migration (%s): another process has held it for %s", name, InstallWait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

// RemoveLeft removes the new file of the checkpoint at path (RemoveNext)
// unless a migration of it is under way, by this process or another (its
// Lock held): a new file left by a stop after its install is no one's,
// one being copied is its migration's. With none there (every open of a
// migrated checkpoint), nothing is created or locked: a folder that is
// not writable still opens.
func RemoveLeft(path string) error {
	left := false
	for _, p := range []string{Next(path), Next(path) + "-journal", Mark(path), Part(path), Part(path) + "-journal"} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			left = true
		}
	}
	if !left {
		return nil
	}
	f, held, err := lockOnce(Lock(path))
	if err != nil || !held {
		return err
	}
	defer unlocker(f, Lock(path))()
	return RemoveNext(path)
}

// lockOnce tries the lock of the file at name once, creating the file:
// held, f holds it; not held, another holds it, or removed it meanwhile.
func lockOnce(name string) (f *os.File, held bool, err error) {
	f, err = os.OpenFile(name, os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lock the migration (%s): %w", name, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case errors.Is(err, syscall.EWOULDBLOCK):
		err = nil
	case err != nil:
		err = fmt.Errorf("lock the migration (%s): %w", name, err)
	case same(f, name):
		return f, true, nil
	}
	// Another's, or a file its holder removed (unlocker) while this one
	// waited for it: the lock of a file no one else opens.
	f.Close()
	return nil, false, err
}

// unlocker removes the lock's file at name, then lets f's lock go: a
// process that waited on the removed file finds it is not the file at
// that name any more (same), and takes the lock of the file there now.
func unlocker(f *os.File, name string) func() {
	return func() {
		os.Remove(name) // while held: no file left beside the checkpoint
		f.Close()       // the lock goes with the file's last descriptor
	}
}

// same says whether f is the file at name now.
func same(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(name)
	return err == nil && os.SameFile(a, b)
}
