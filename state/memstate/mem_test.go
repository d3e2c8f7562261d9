package memstate_test

import (
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/state/statetest"
)

// TestMem_Contract runs the checkpoint's contract on the in-memory
// implementation.
func TestMem_Contract(t *testing.T) {
	statetest.Run(t, func(t *testing.T, now func() time.Time) state.Checkpoint {
		m := memstate.New()
		m.Now = now
		t.Cleanup(func() { m.Close() })
		return m
	})
}
