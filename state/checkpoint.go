// Package state is the checkpoint's vocabulary: what a checkpoint records
// (Record, Outcome, Known, Event, Run, ...), the Writer of outcomes, and
// the interfaces the engine consumes (Checkpoint and its parts). It links
// no database: the SQLite checkpoint is package state/sqlite, the one in
// memory state/memstate, and both run the contract suite of
// state/statetest.
package state

import (
	"context"
	"time"
)

// Checkpoint is everything the engine (package sync and its stages) asks
// of the checkpoint. DB (SQLite) and memstate.Mem (in memory) implement
// it, and both run the one contract suite of package statetest: a test of
// the engine on the in-memory one may trust what that suite checks.
//
// The stages consume smaller parts (RecordReader, KnownReader, ...), so
// each declares, or takes from here, only what it reads.
type Checkpoint interface {
	RecordReader
	KnownReader
	Saver
	Marks
	RunLog
	Keeper
	HistoryKeeper
}

// RecordReader reads the managed records: what the plan, drift, reconcile
// and the run's reports read. Streams go in byte order of the reference;
// an error of fn stops them and is returned as is.
type RecordReader interface {
	// Count returns the number of managed references.
	Count(ctx context.Context) (int, error)
	// Hashes streams every managed (reference, hash).
	Hashes(ctx context.Context, fn func(ref, hash string) error) error
	// HashesBetween streams those with from <= reference < to ("": to the end).
	HashesBetween(ctx context.Context, from, to string, fn func(ref, hash string) error) error
	// HashSumsBetween is HashesBetween with each record's row sum (0: unknown).
	HashSumsBetween(ctx context.Context, from, to string, fn func(ref, hash string, sum uint64) error) error
	// Get returns the record of a managed reference, or (nil, nil).
	Get(ctx context.Context, ref string) (*Record, error)
	// Values returns the values last pushed of a managed reference, nil for
	// one not managed.
	Values(ctx context.Context, ref string) (map[string]string, error)
	// CRMLastUpdated returns the CRM's lastUpdated recorded of a managed
	// reference; managed is false for one not managed.
	CRMLastUpdated(ctx context.Context, ref string) (at time.Time, managed bool, err error)
	// Records streams every managed record.
	Records(ctx context.Context, fn func(Record) error) error
}

// KnownReader reads the customers the checkpoint expects in the CRM
// (Known), by the CRM's lastUpdated: what counting and the refresh read.
// A window is [from, until), a zero until has no end; its cuts are whole
// seconds.
type KnownReader interface {
	CountKnown(ctx context.Context, from, until time.Time) (int, error)
	KnownIn(ctx context.Context, from, until time.Time) ([]Known, error)
	KnownWindows(ctx context.Context, from, until time.Time, size, least int) ([]KnownWindow, error)
	KnownBounds(ctx context.Context, from, until time.Time, parts int) ([]time.Time, error)
	MedianKnown(ctx context.Context, from, until time.Time) (time.Time, error)
	KnownByReference(ctx context.Context, ref string) (k Known, ok bool, err error)
	KnownByReferences(ctx context.Context, refs []string) (map[string]Known, error)
	// DeletedByHand returns the managed records found deleted by hand in
	// the CRM and not pushed or seen again since, by reference.
	DeletedByHand(ctx context.Context) ([]Known, error)
}

// Saver records, each call in one transaction, what a run learned besides
// its outcomes (which go through a Writer).
type Saver interface {
	SaveSeen(ctx context.Context, seen []Seen) error
	SaveCounted(ctx context.Context, c Counted) error
	SaveRowSums(ctx context.Context, sums []RowSum) error
	SaveHashes(ctx context.Context, rs []Rehash) error
}

// Marks are the checkpoint's single values: the refresh watermark, the
// verified span, the last full check (all kept to the second, in UTC) and
// the mapping fingerprint.
type Marks interface {
	Watermark(ctx context.Context) (time.Time, error)
	SetWatermark(ctx context.Context, t time.Time) error
	VerifiedUntil(ctx context.Context) (time.Time, error)
	SetVerifiedUntil(ctx context.Context, t time.Time) error
	FullCheck(ctx context.Context) (time.Time, error)
	SetFullCheck(ctx context.Context, t time.Time) error
	Fingerprint(ctx context.Context) (string, error)
	SetFingerprint(ctx context.Context, fp string) error
}

// RunLog is the run history and the pending row failures.
type RunLog interface {
	StartRun(ctx context.Context, kind, file, sha string) (int64, error)
	NoteRunSHA(ctx context.Context, id int64, sha string) error
	FinishRun(ctx context.Context, id int64, status string, counts map[string]int, errText string) error
	// Runs returns the last limit runs, newest first (all: limit <= 0).
	Runs(ctx context.Context, limit int) ([]Run, error)
	// Failures returns the pending row failures, by reference.
	Failures(ctx context.Context) ([]Failure, error)
}

// Keeper is the checkpoint as a whole: its lock, its one writer of
// outcomes, its soundness and its clock.
type Keeper interface {
	// Acquire takes the checkpoint for one run of the given kind.
	Acquire(ctx context.Context, kind string) (*Lock, error)
	// NewWriter returns the writer of outcomes (batched).
	NewWriter(batch int, every time.Duration) *Writer
	// Verify says whether the checkpoint is sound (an *UnusableError if not).
	Verify(ctx context.Context) error
	// Clock is the time on the checkpoint's clock: every time it stores
	// (runs, pushes, failures, locks) is read from it.
	Clock() time.Time
}

// Inspector is what an operator's commands (status, why, unlock) and the
// serve's inbox read besides the Checkpoint; both implementations have it.
type Inspector interface {
	// DeletedCopies returns the CRM's copies kept of a deleted reference,
	// newest first.
	DeletedCopies(ctx context.Context, ref string) ([]Deleted, error)
	// SyncedLast reports whether the last run took this export to the end.
	SyncedLast(ctx context.Context, file, sha string) (bool, error)
	// UnmanagedCount is the number of customers seen but not managed.
	UnmanagedCount(ctx context.Context) (int, error)
	// Holder returns who holds the checkpoint, nil when it is free.
	Holder(ctx context.Context) (*Holder, error)
	// Unlock frees the checkpoint held by held; false when it is held by
	// another since.
	Unlock(ctx context.Context, held *Holder) (bool, error)
}

// AtSecond is a time as the checkpoint keeps a time of its own (runs,
// pushes, failures, marks): whole seconds, in UTC; the zero time stays
// zero.
func AtSecond(t time.Time) time.Time { return fromUnix(unix(t)) }

// AtMillisecond is a CRM lastUpdated as the checkpoint keeps it: whole
// milliseconds, in UTC; the zero time stays zero.
func AtMillisecond(t time.Time) time.Time { return fromMillis(millis(t)) }
