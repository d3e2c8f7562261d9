package state_test

// benchDir holds the checkpoints built once for the benchmarks.
var benchDir string
