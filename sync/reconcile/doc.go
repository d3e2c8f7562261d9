// Package reconcile is finance's comparison of an export with everything
// the CRM holds: Run indexes the export compactly (reconcile_index.go,
// with its packed table of references, reftable.go), lists the CRM
// (sync/refresh's listing) and judges each reference matched, only in
// the ERP, only in the CRM, different, refused or not sendable, with
// currency totals. What it needs of the CRM's records that differ
// (crmcopy.go) waits in a temporary file (sync/reconcile/spill), not in
// memory. It writes nothing else; Write puts the result in
// reconciliation.json, .csv and .html, every CSV cell made inert.
package reconcile
