// Package refresh is the CRM side of a run, read before the plan: what
// the CRM holds, in the canonical form that mapping gives the export's
// values (readback.go: CRMValues, Differences), so that the plan, the
// apply's write check and reconcile compare like with like.
//
// It takes no Job and records nothing: it returns what it found.
package refresh
