package state

import "erpsync/state/runlock"

// The run lock (state/runlock), as a checkpoint hands it out: Acquire
// records its holder in the lock table, one row.
type (
	Holder = runlock.Holder
	Lock   = runlock.Lock
)
