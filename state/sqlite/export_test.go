package sqlite

import (
	"cmp"

	"erpsync/state/compact"
)

// Test hooks of migration 008 (migrate008.go), for the external tests.

// SetStopBefore leaves migration name and the later ones out of db's
// Open: a checkpoint as an older erpsync left it.
func SetStopBefore(db *DB, name string) { db.stopBefore = name }

// SetCopyHook sets the hook called after each batch of migration 008,
// and its batch size (0: as it is); it returns a function that restores
// both.
func SetCopyHook(batch int, hook func(copied int) error) (restore func()) {
	oldBatch, oldHook := copyBatch, copyHook
	copyBatch, copyHook = cmp.Or(batch, copyBatch), hook
	return func() { copyBatch, copyHook = oldBatch, oldHook }
}

// SetStepHook sets the hook called at each step of migration 008 after
// the copy ("complete": the new file holds everything; "installed": it
// is copied over the checkpoint); it returns a function that restores it.
func SetStepHook(hook func(step string) error) (restore func()) {
	old := stepHook
	stepHook = hook
	return func() { stepHook = old }
}

// SetBootID sets the id of the machine's boot that migration 008 sees;
// it returns a function that restores it.
func SetBootID(id string) (restore func()) {
	old := bootID
	bootID = func() string { return id }
	return func() { bootID = old }
}

// SetPartHook sets the hook called after each batch of migration 008's
// copy of the records after its split; it returns a function that
// restores it.
func SetPartHook(hook func(copied int) error) (restore func()) {
	old := partHook
	partHook = hook
	return func() { partHook = old }
}

// WALAutocheckpoint is the wal_autocheckpoint of db's writing connection.
func WALAutocheckpoint(db *DB) (int, error) {
	var n int
	err := db.rw.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n)
	return n, err
}

// WaitReleased waits for the background closes of the old checkpoints
// migration 008 renamed over (compact.WaitReleased).
func WaitReleased() { compact.WaitReleased() }
