//go:build race

package sqlite_test

// raceEnabled: the race detector is on, and allocates on its own:
// allocation counts are bounded more loosely under it.
const raceEnabled = true
