// Package sync is the engine of erpsync: Run does one sync, import or plan
// of an export, phase after phase (engine.go): the state lock and the
// run's record, the refresh of the CRM side (sync/refresh), the plan and
// its guards (sync/plan), the apply under a bounded errgroup
// (sync/apply; a dry run wraps the CRM and the checkpoint there, at one
// choke point: Job.wired), what a
// finished run remembers (remember.go: the watermark, the CRM copies
// seen), and the run's reports (sync/report). outcome.go decides what an
// end means: its class, exit code and recorded status; it asks each
// error its class. norun.go records an export that ended before its run
// could start; hold.go lends the state lock to sync/adopt (init -adopt). guards.go is the guard step
// (max_create, max_update, max_blank, max_mapping_change; run -accept);
// approved.go a plan's approval (sync/approve) and its exact apply.
//
// Beside the engine, used by the commands directly: sync/reconcile
// (finance's comparison) and sync/inbox (serve's next export).
//
// Each stage declares the interfaces it consumes next to the code that
// uses them; sync/crm and state satisfy them. The engine knows no SQL and
// no HTTP.
package sync
