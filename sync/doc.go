// Package sync is the engine of erpsync: Run does one sync, import or plan
// of an export, phase after phase (engine.go): the state lock and the
// run's record, the refresh of the CRM side (refresh.go, pull.go,
// drift.go), the plan (sync/plan: the diff, its order, its guards and
// every performance device behind one API), the apply under a bounded
// errgroup (apply.go; dryrun.go is its one choke point for dry runs),
// the watermark, and the reports (report.go). outcome.go decides what an
// end means: its class, exit code and recorded status.
//
// Beside the engine: Reconcile (reconcile.go, reconcile_report.go) compares
// an export with everything the CRM holds, for finance, and Inbox
// (inbox.go) picks serve's next export.
//
// The package declares the interfaces it consumes (CRM, Lister,
// Recorder …) next to the code that uses them; sync/crm and state
// satisfy them. It knows no SQL and no HTTP.
package sync
