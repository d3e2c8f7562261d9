//go:build race

package sqlite_test

// raceEnabled: whether the race detector is on; it allocates on its own:
// allocation counts are bounded more loosely under it.
const raceEnabled = true
