package state

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Run is one entry of the run history.
type Run struct {
	ID         int64
	Kind       string // run | import
	File       string
	FileSHA256 string
	Status     string // one of the Status constants
	Started    time.Time
	Ended      time.Time // zero while running
	Counts     map[string]int
	Error      string
}

// Statuses of a run. Only StatusDone and StatusDoneFailures took their
// export to the end (see SyncedLast).
const (
	StatusRunning      = "running"
	StatusDone         = "done"
	StatusDoneFailures = "done with failures"
	StatusAborted      = "aborted"     // stopped by a guard
	StatusFailed       = "failed"      // a fatal error
	StatusInterrupted  = "interrupted" // a signal
)

// MaxRunError bounds the error text of a run that is stored (the run
// history) or written (summary.json): a CRM's answer may be of any length.
const MaxRunError = 2 << 10

// ClipRunError is s, or its first MaxRunError bytes cut on a character's
// boundary and marked with the length it had.
func ClipRunError(s string) string {
	if len(s) <= MaxRunError {
		return s
	}
	n := MaxRunError
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "") + fmt.Sprintf("… (cut: %d bytes in all)", len(s))
}

// Failure is a row the CRM refused (or that could not be sent). It stays
// pending until a later success of the same reference clears it; a new
// failure of the reference replaces it.
type Failure struct {
	RunID     int64
	Op        string // upsert | delete
	Reference string
	Line      int // line of the row in the export, 0 when none
	Status    int // HTTP status, 0 when no answer
	Code      string
	Message   string
	At        time.Time
}

// Deleted is the CRM's last copy of a customer that erpsync deleted, kept
// so that a person can restore it.
type Deleted struct {
	Reference string
	CRMID     int64
	Copy      []byte // the CRM's JSON, as it answered
	RunID     int64
	DeletedAt time.Time
}
