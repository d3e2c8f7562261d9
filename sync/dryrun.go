package sync

import (
	"erpsync/state"
	"erpsync/sync/apply"
)

// DryRunCheckpoint is the checkpoint of a dry run (apply.DryRunCheckpoint):
// it reads through to cp and drops every write.
func DryRunCheckpoint(cp state.Checkpoint) state.Checkpoint { return apply.DryRunCheckpoint(cp) }
