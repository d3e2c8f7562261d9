// Package apply sends a plan to the CRM: Run gives each wave's actions
// (sync/plan's one API for lean plans and full ones alike) to a bounded
// group of workers, upserts parents first, deletes last, checks every
// write's answer against what was sent (a difference is a row failure),
// stops scheduling past max_failures, and hands each outcome to a
// Recorder (the checkpoint's writer) and to Done (the run's report).
//
// A dry run is a wrapper, not a branch: DryRun wraps the CRM so that its
// writes go nowhere, Discard is a Recorder that records nothing,
// DryRunCheckpoint wraps the checkpoint so that nothing is kept. The
// package declares the interfaces it consumes (CRM, Recorder) and knows
// no SQL.
package apply
