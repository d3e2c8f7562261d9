//go:build race

package crmsim

// raceEnabled: the race detector is on, and allocates on its own.
const raceEnabled = true
