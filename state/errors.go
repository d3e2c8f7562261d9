package state

import (
	"errors"
	"fmt"
	"time"
)

// UnusableError is a state file that erpsync will not use: not SQLite, a
// SQLite database of another program, corrupt, or written by a newer
// erpsync. Open leaves such a file exactly as it found it.
type UnusableError struct {
	Path   string
	Reason string
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("state file %s is unusable: %s (it was left untouched)", e.Path, e.Reason)
}

// LockedError says that another run holds the state file: Holder.
type LockedError struct {
	Holder
}

func (e *LockedError) Error() string {
	s := fmt.Sprintf("the state file is held by %s (pid %d on %s) since %s",
		e.Kind, e.PID, e.Host, e.Since.UTC().Format(time.RFC3339))
	if !e.Heartbeat.IsZero() {
		s += ", last renewed " + e.Heartbeat.UTC().Format(time.RFC3339)
	}
	return s + "; one run at a time (if that process is gone for sure, `erpsync unlock` frees the file)"
}

// ErrWriterClosed is returned by Writer.Put once the writer has stopped.
var ErrWriterClosed = errors.New("checkpoint writer closed")
