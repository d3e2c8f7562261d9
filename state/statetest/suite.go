// Package statetest is the checkpoint's contract: one suite of tests that
// every implementation of state.Checkpoint runs (the SQLite sqlite.DB and
// the in-memory memstate.Mem), as restic's backend/test.Suite is run by
// each of its backends. A test of the engine may trust of an in-memory
// checkpoint exactly what this suite checks of both.
package statetest

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"testing"
	"time"

	"erpsync/state"
)

// Opener returns a new, empty checkpoint whose clock is now, closed when
// t ends.
type Opener func(t *testing.T, now func() time.Time) state.Checkpoint

// Start is where the suite's clock starts.
var Start = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// Run runs every test of the contract, each on a new checkpoint, in
// parallel.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(h *H)
	}{
		{"Empty", testEmpty},
		{"UpsertReadBack", testUpsertReadBack},
		{"NoValuesAreEmptyMaps", testNoValues},
		{"ValuesAsStored", testValuesAsStored},
		{"PushedInOrder", testPushedInOrder},
		{"FailureKeepsRecord", testFailureKeepsRecord},
		{"FailureOfReferenceNeverPushed", testFailureUnmanaged},
		{"FailureReplacesPrevious", testFailureReplaces},
		{"SuccessClearsFailure", testSuccessClearsFailure},
		{"DeleteRemovesAndKeepsCopy", testDeleteRemoves},
		{"FailedDeleteKeepsRecord", testFailedDelete},
		{"OutcomesApplyInOrder", testOrder},
		{"CountAndHashes", testCounts},
		{"HashesByteOrder", testHashesByteOrder},
		{"HashesBetween", testHashesBetween},
		{"Records", testRecords},
		{"Values", testValues},
		{"CRMLastUpdated", testCRMLastUpdated},
		{"LastUpdatedMilliseconds", testMilliseconds},
		{"SaveSeen", testSaveSeen},
		{"RowSums", testRowSums},
		{"SaveHashes", testSaveHashes},
		{"Marks", testMarks},
		{"Runs", testRuns},
		{"RunErrorBounded", testRunErrorBounded},
		{"SyncedLast", testSyncedLast},
		{"SaveCountedForgetThenSee", testForgetThenSee},
		{"KnownWindows", testKnownWindows},
		{"KnownBounds", testKnownBounds},
		{"KnownWindowsCuts", testKnownWindowsCuts},
		{"KnownByReferences", testKnownByReferences},
		{"DeletedByHand", testDeletedByHand},
		{"Lock", testLock},
		{"LockLostAtRelease", testLockLostAtRelease},
		{"Clock", testClock},
		{"History", testHistory},
		{"HistoryWithOutcomes", testHistoryWithOutcomes},
		{"RunEvents", testRunEvents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each test has its own checkpoint and clock
			c := &Clock{at: Start}
			tc.fn(&H{T: t, CP: open(t, c.Now), Clock: c})
		})
	}
}

// H is one test's checkpoint, with its clock.
type H struct {
	*testing.T
	CP    state.Checkpoint
	Clock *Clock
}

// Clock is a clock that moves only when told.
type Clock struct {
	mu gosync.Mutex
	at time.Time
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

// Set moves the clock to at.
func (c *Clock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = at
}

var ctx = context.Background()

// Inspector is the part of an implementation that the contract also
// checks, besides state.Checkpoint.
func (h *H) Inspector() state.Inspector {
	h.Helper()
	in, ok := h.CP.(state.Inspector)
	if !ok {
		h.Fatalf("%T is no state.Inspector", h.CP)
	}
	return in
}

// Write records outcomes through a writer and closes it.
func (h *H) Write(outs ...state.Outcome) {
	h.Helper()
	w := h.CP.NewWriter(100, time.Hour)
	for _, o := range outs {
		if err := w.Put(ctx, o); err != nil {
			h.Fatalf("put %s of %s: %v", o.Op, o.Reference, err)
		}
	}
	if err := w.Close(); err != nil {
		h.Fatal(err)
	}
}

// Get reads a record.
func (h *H) Get(ref string) *state.Record {
	h.Helper()
	r, err := h.CP.Get(ctx, ref)
	if err != nil {
		h.Fatal(err)
	}
	return r
}

// Count reads the number of managed references.
func (h *H) Count() int {
	h.Helper()
	n, err := h.CP.Count(ctx)
	if err != nil {
		h.Fatal(err)
	}
	return n
}

// Hashes returns what Hashes streams, as "ref=hash".
func (h *H) Hashes() []string {
	h.Helper()
	var out []string
	if err := h.CP.Hashes(ctx, func(ref, hash string) error {
		out = append(out, ref+"="+hash)
		return nil
	}); err != nil {
		h.Fatal(err)
	}
	return out
}

// Failures reads the pending failures.
func (h *H) Failures() []state.Failure {
	h.Helper()
	fs, err := h.CP.Failures(ctx)
	if err != nil {
		h.Fatal(err)
	}
	return fs
}

// Equal fails the test when got is not want.
func Equal[T comparable](h *H, what string, got, want T) {
	h.Helper()
	if got != want {
		h.Errorf("%s = %v, want %v", what, got, want)
	}
}

// must fails the test on an error.
func (h *H) must(err error) {
	h.Helper()
	if err != nil {
		h.Fatal(err)
	}
}

// lu is the CRM's lastUpdated of the suite's upserts.
var lu = Start.Add(-time.Minute)

// Upsert is a successful upsert outcome.
func Upsert(ref, hash string, vals map[string]string) state.Outcome {
	return state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: ref, Line: 2, Hash: hash, Values: vals,
		CRMID: 100, CRMLastUpdated: lu, CRMValues: vals}
}

// refused is a failed outcome of reference A.
func refused(runID int64, op, code string) state.Outcome {
	return state.Outcome{RunID: runID, Op: op, Reference: "A", Line: 7,
		Failure: &state.Failure{Status: 400, Code: code, Message: "Failed to save instance."}}
}

// errStop is what a callback returns to stop a stream.
var errStop = errors.New("stop")

// refs are n references R000, R001, ...
func refs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("R%03d", i)
	}
	return out
}
