package sync_test

import (
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
)

// The consumers' interfaces, satisfied by the real packages.
var (
	_ sync.CRM                 = (*crm.Client)(nil)
	_ sync.Lister              = (*crm.Client)(nil)
	_ sync.CRM                 = sync.DryRun{}
	_ sync.PlanCheckpoint      = (*state.DB)(nil)
	_ sync.RecordReader        = (*state.DB)(nil)
	_ sync.LastUpdatedReader   = (*state.DB)(nil)
	_ sync.ReconcileCheckpoint = (*state.DB)(nil)
	_ sync.Recorder            = (*state.Writer)(nil)
	_ sync.Recorder            = sync.Discard{}

	// The checkpoint's interface (and so memstate.Mem) is all that sync's
	// consumers of a checkpoint ask.
	_ sync.PlanCheckpoint      = state.Checkpoint(nil)
	_ sync.RecordReader        = state.Checkpoint(nil)
	_ sync.LastUpdatedReader   = state.Checkpoint(nil)
	_ sync.ReconcileCheckpoint = state.Checkpoint(nil)
	_ sync.KnownCheckpoint     = state.Checkpoint(nil)
)
