// Package migbench holds BenchmarkMigrate1M: migration 008 of a
// checkpoint of 1,000,000 records written as erpsync wrote them before
// it, against a steady run of the same customers (issue 25 §4), in a
// test binary of its own: the steady run needs sync (sync/benchkit,
// shared with sync's benchmarks), which state/sqlite's tests do not
// link. It has no code but the benchmark's.
package migbench
