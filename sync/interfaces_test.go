package sync_test

import (
	"erpsync/state"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
	"erpsync/sync/reconcile"
	"erpsync/sync/refresh"
	"erpsync/sync/report"
)

// The consumers' interfaces, satisfied by the real packages.
var (
	_ apply.CRM                 = (*crm.Client)(nil)
	_ sync.CRM                  = (*crm.Client)(nil)
	_ refresh.Lister            = (*crm.Client)(nil)
	_ apply.CRM                 = apply.DryRun{}
	_ plan.Checkpoint           = (*sqlite.DB)(nil)
	_ refresh.RecordReader      = (*sqlite.DB)(nil)
	_ refresh.LastUpdatedReader = (*sqlite.DB)(nil)
	_ reconcile.Checkpoint      = (*sqlite.DB)(nil)
	_ apply.Recorder            = (*state.Writer)(nil)
	_ apply.Recorder            = apply.Discard{}

	// The checkpoint's interface (and so memstate.Mem) is all that sync's
	// consumers of a checkpoint ask.
	_ plan.Checkpoint           = state.Checkpoint(nil)
	_ refresh.RecordReader      = state.Checkpoint(nil)
	_ refresh.LastUpdatedReader = state.Checkpoint(nil)
	_ reconcile.Checkpoint      = state.Checkpoint(nil)
	_ refresh.KnownCheckpoint   = state.Checkpoint(nil)
)

// The stages' checkpoints are parts of the engine's.
var (
	_ refresh.Checkpoint = state.Checkpoint(nil)
	_ report.History     = state.Checkpoint(nil)
)
