package guard

import (
	"errors"
	"slices"
	"strings"
)

// Acceptable reports whether err is a guard's stop that run -accept (and
// so an approved plan) can let through: every guard it names is one of
// guard.Names. The empty export guard is not: its plan would stop on it
// again, so it is never written to wait for approval.
func Acceptable(err error) bool {
	var g *Error
	if !errors.As(err, &g) {
		return false
	}
	for name := range strings.SplitSeq(g.Guard, ",") {
		if !slices.Contains(Names, name) {
			return false
		}
	}
	return true
}

// StoppedNote ends the detail of a guard that stops the run.
const StoppedNote = "; nothing was written"

// AcceptedOf is the record of a guard that tripped and was let through
// (run -accept, an approved plan): what it says, but that nothing was
// written.
func AcceptedOf(e *Error, by string) Accepted {
	return Accepted{Guard: e.Guard, By: by,
		Detail: strings.TrimSuffix(e.Detail, StoppedNote) + "; accepted for this run, which went on to write"}
}
