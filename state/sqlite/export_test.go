package sqlite

import "erpsync/state/compact"

// Test hooks of migration 008 (migrate008.go), for the external tests.

// SetStopBefore leaves migration name and the later ones out of db's
// Open: a checkpoint as an older erpsync left it.
func SetStopBefore(db *DB, name string) { db.stopBefore = name }

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
