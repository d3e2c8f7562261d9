// Package refresh is the CRM side of a run, read before the plan. Run
// pulls the customers changed since the watermark (pull.go:
// lastUpdated_gte), counts the windows below it against the checkpoint
// to find hand deletes and creates, reading only the windows that differ
// (count.go), and compares what it kept with what erpsync last pushed
// (drift.go). It returns a Result (the drift for the plan, the records
// it could not read) and records nothing: Save does, once the run has
// finished. ListAll (listall.go) walks every customer, for reconcile
// and init -adopt.
//
// The CRM's answer is read in the canonical form that mapping gives the
// export's values (readback.go: CRMValues, Differences), so that the
// plan, the apply's write check and reconcile compare like with like.
//
// It takes no Job: the engine gives it Options. It declares what it asks
// of the CRM (CRM, Lister, CountAPI) and of the checkpoint.
package refresh
