package sync_test

import (
	"errors"
	"fmt"
	"testing"

	"erpsync/sync"
)

// unusableErr and guardErr are errors of a package the classifier has
// never heard of: they say their class, and that is enough.
type unusableErr struct{}

func (unusableErr) Error() string  { return "no header" }
func (unusableErr) Unusable() bool { return true }

type guardErr struct{}

func (guardErr) Error() string   { return "max_delete: too many" }
func (guardErr) GuardStop() bool { return true }

// TestClassify_AsksTheError: the class travels with the error (an
// interface the classifier asks), wrapped or not; Classify switches on
// no other package's types.
func TestClassify_AsksTheError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want sync.Class
	}{
		{unusableErr{}, sync.ClassUnusable},
		{fmt.Errorf("read: %w", unusableErr{}), sync.ClassUnusable},
		{guardErr{}, sync.ClassGuard},
		{fmt.Errorf("apply: %w", guardErr{}), sync.ClassGuard},
		{sync.WithClass(sync.ClassRowFailures, unusableErr{}), sync.ClassRowFailures}, // the class given wins
		{errors.New("unknown"), sync.ClassFatal},
		{nil, sync.ClassDone},
	} {
		if got := sync.Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
