package sqlite

import (
	"time"

	"erpsync/state"
)

// Stored times, as every checkpoint stores them (state's storedtime.go).

func unix(t time.Time) int64        { return state.Seconds(t) }
func millis(t time.Time) int64      { return state.Millis(t) }
func fromUnix(s int64) time.Time    { return state.FromSeconds(s) }
func fromMillis(ms int64) time.Time { return state.FromMillis(ms) }
