package sync_test

import (
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
)

// The consumers' interfaces, satisfied by the real packages.
var (
	_ sync.CRM                 = (*crm.Client)(nil)
	_ sync.Lister              = (*crm.Client)(nil)
	_ sync.CRM                 = sync.DryRun{}
	_ plan.Checkpoint          = (*state.DB)(nil)
	_ sync.RecordReader        = (*state.DB)(nil)
	_ sync.LastUpdatedReader   = (*state.DB)(nil)
	_ sync.ReconcileCheckpoint = (*state.DB)(nil)
	_ sync.Recorder            = (*state.Writer)(nil)
	_ sync.Recorder            = sync.Discard{}
)
