package sync_test

import (
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
)

// The consumers' interfaces, satisfied by the real packages.
var (
	_ apply.CRM                = (*crm.Client)(nil)
	_ sync.Lister              = (*crm.Client)(nil)
	_ apply.CRM                = apply.DryRun{}
	_ plan.Checkpoint          = (*state.DB)(nil)
	_ sync.RecordReader        = (*state.DB)(nil)
	_ sync.LastUpdatedReader   = (*state.DB)(nil)
	_ sync.ReconcileCheckpoint = (*state.DB)(nil)
	_ apply.Recorder           = (*state.Writer)(nil)
	_ apply.Recorder           = apply.Discard{}

	// The checkpoint's interface (and so memstate.Mem) is all that sync's
	// consumers of a checkpoint ask.
	_ plan.Checkpoint          = state.Checkpoint(nil)
	_ sync.RecordReader        = state.Checkpoint(nil)
	_ sync.LastUpdatedReader   = state.Checkpoint(nil)
	_ sync.ReconcileCheckpoint = state.Checkpoint(nil)
	_ sync.KnownCheckpoint     = state.Checkpoint(nil)
)
