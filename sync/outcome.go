package sync

import (
	"errors"

	"erpsync/state"
)

// Class is what the end of a run means. Its value is the process's exit
// code (ARCHITECTURE.md), and serve's health and the run's recorded status
// follow from it too: this file is the one place that decides.
type Class int

const (
	ClassDone        Class = 0 // all done
	ClassRowFailures Class = 1 // finished, with rows that failed or were invalid
	ClassUnusable    Class = 2 // usage, config or an unusable export: nothing was written
	ClassGuard       Class = 3 // stopped by a guard (max_delete, max_failures, empty export)
	ClassFatal       Class = 4 // auth refused, CRM unreachable, state unusable, interrupted
)

// ClassError is an error that carries its class.
type ClassError struct {
	Class Class
	Err   error
}

func (e *ClassError) Error() string { return e.Err.Error() }
func (e *ClassError) Unwrap() error { return e.Err }

// Unusable says whether the error is of ClassUnusable, for those who ask
// an error whether it is (serve's inbox).
func (e *ClassError) Unusable() bool { return e.Class == ClassUnusable }

// WithClass gives err a class; nil stays nil.
func WithClass(c Class, err error) error {
	if err == nil {
		return nil
	}
	return &ClassError{Class: c, Err: err}
}

// Classify says what an error means: the class it carries, else the class
// it says it is of (Unusable, GuardStop: an interface it is asked, so no
// package's error type is switched on here). Anything unknown is fatal:
// a run that cannot say what went wrong did not finish cleanly.
func Classify(err error) Class {
	var ce *ClassError
	switch {
	case err == nil:
		return ClassDone
	case errors.As(err, &ce):
		return ce.Class
	case says(err, unusable.Unusable):
		return ClassUnusable
	case says(err, guardStop.GuardStop):
		return ClassGuard
	}
	return ClassFatal
}

// unusable is an error of an export or a config that cannot be used
// (mapping.FileError says so): nothing was written.
type unusable interface{ Unusable() bool }

// guardStop is an error of a guard that stopped the run (guard.Error
// says so).
type guardStop interface{ GuardStop() bool }

// says reports whether an error of err's chain is a T that answers yes.
func says[T any](err error, yes func(T) bool) bool {
	var t T
	return errors.As(err, &t) && yes(t)
}

// Status is the run's recorded status for an error of its end. interrupted
// says the run's context was cancelled (SIGINT, SIGTERM, serve's shutdown).
func Status(err error, interrupted bool) string {
	switch c := Classify(err); {
	case c == ClassGuard:
		return state.StatusAborted
	case interrupted:
		return state.StatusInterrupted
	case c == ClassDone:
		return state.StatusDone
	case c == ClassRowFailures:
		return state.StatusDoneFailures
	}
	return state.StatusFailed
}

// StatusRejected is how serve counts an export that could not be used at
// all (ClassUnusable): its run is recorded as failed, the file is rejected.
const StatusRejected = "rejected"

// Finished reports whether a run of this class went through to its end, so
// that its export counts as synced (archived by serve, a success in the
// metrics, a healthy worker).
func Finished(err error) bool {
	c := Classify(err)
	return c == ClassDone || c == ClassRowFailures
}
