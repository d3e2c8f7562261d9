package state

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"erpsync/state/compact"
	"erpsync/state/prepared"
)

// The operations of an outcome.
const (
	OpUpsert = "upsert"
	OpDelete = "delete"
)

// Outcome is the result of one request, as the writer records it.
type Outcome struct {
	RunID     int64
	Op        string // OpUpsert | OpDelete
	Reference string
	Line      int // line of the row in the export

	// An upsert that succeeded: what was pushed, and what the CRM answered
	// (CRMValues in canonical form).
	Hash           string
	RowSum         uint64 // the export row's sum (mapping's Customer.RowSum); 0: none
	Values         map[string]string
	CRMID          int64
	CRMLastUpdated time.Time
	CRMValues      map[string]string

	// A delete that succeeded: the CRM's last JSON copy of the customer,
	// kept in the audit table (nil when the CRM had nothing left to copy).
	// CRMID, when set, is kept with it.
	DeletedCopy []byte

	// Failure, when set, is a row failure: the record keeps its last good
	// state, and the failure replaces the reference's previous one. Its
	// zero fields are taken from the outcome (RunID, Op, Reference, Line)
	// or the clock (At).
	Failure *Failure

	// History are the customers' history events of this outcome (the
	// write it records, as history.Recorder makes it): saved in the same
	// transaction, so that a run's events are kept iff its outcomes are.
	History []Event
}

// Writer is the checkpoint's one writer: outcomes are queued by Put, from
// any number of goroutines, and written by the writer's goroutine in
// batched transactions: when batch outcomes are queued, every interval,
// on Flush, and when it stops. While a batch is written, Put goes on
// queueing; it waits only when 4 batches are already queued.
//
// A successful outcome clears any stored failure of its reference.
//
// The first write error is kept: Put, Flush, Close and Run return it.
type Writer struct {
	write    BatchFunc
	batch    int
	every    time.Duration
	maxQueue int

	start    sync.Once
	wake     chan struct{} // a batch is full, or a flush is asked for
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // the goroutine has ended

	mu      sync.Mutex
	queue   []Outcome
	spare   []Outcome     // the previous batch's array, reused
	drained chan struct{} // closed when the goroutine takes the queue
	flushes []chan error
	closed  bool // no more Put
	err     error
	end     func() error // at the goroutine's end: closes the statements kept
}

// NewWriter returns a writer that commits every batch outcomes or every
// interval, whichever comes first (defaults: 500 and 250 ms). Its
// goroutine is started by Start or Run, or else by the first Put or Flush.
func (db *DB) NewWriter(batch int, every time.Duration) *Writer {
	stmts := prepared.New(db.rw, sqlSaveRecord, sqlClearFailure, sqlSaveFailure, sqlKeepCopy, sqlDeleteRecord,
		insertHistorySQL(historySizes[0]), insertHistorySQL(historySizes[1]), insertHistorySQL(historySizes[2]))
	w := NewBatchWriter(func(ctx context.Context, b []Outcome) error { return db.writeOutcomes(ctx, stmts, b) }, batch, every)
	w.end = stmts.Close
	return w
}

// BatchFunc records a batch of outcomes, in order, at once (one
// transaction): a checkpoint's side of its Writer.
type BatchFunc func(ctx context.Context, batch []Outcome) error

// NewBatchWriter is the Writer of a checkpoint whose batches write does
// (the same batching, order and errors for every implementation); see
// DB.NewWriter for batch and every.
func NewBatchWriter(write BatchFunc, batch int, every time.Duration) *Writer {
	if batch <= 0 {
		batch = 500
	}
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	return &Writer{write: write, batch: batch, every: every, maxQueue: 4 * batch,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		drained: make(chan struct{})}
}

// Start starts the writer's goroutine if it is not running yet. The
// writer ends, writing what is queued, when Close is called or when a
// context given to Start or Run is done; give it one that outlives the
// producers, since a Put after the end returns ErrWriterClosed.
func (w *Writer) Start(ctx context.Context) {
	w.start.Do(func() { go w.loop() })
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				w.halt()
			case <-w.done:
			}
		}()
	}
}

// Run is Start, then waits for the writer's end: until ctx is done or
// Close is called, and what was queued is written. It returns the first
// write error.
func (w *Writer) Run(ctx context.Context) error {
	w.Start(ctx)
	<-w.done
	return w.failed()
}

// Put queues an outcome. It does not wait for the write (see Flush), and
// waits for room only when 4 batches are queued: ctx bounds that wait
// alone, so an outcome is queued even when ctx is already done.
func (w *Writer) Put(ctx context.Context, o Outcome) error {
	if o.Reference == "" {
		return errors.New("record outcome: no reference")
	}
	if o.Op != OpUpsert && o.Op != OpDelete {
		return fmt.Errorf("record outcome of %s: unknown operation %q", o.Reference, o.Op)
	}
	return w.put(ctx, o)
}

// put queues an outcome (or history events alone: PutHistory).
func (w *Writer) put(ctx context.Context, o Outcome) error {
	w.Start(context.Background())
	w.mu.Lock()
	for {
		if w.err != nil {
			w.mu.Unlock()
			return w.err
		}
		if w.closed {
			w.mu.Unlock()
			return ErrWriterClosed
		}
		if len(w.queue) < w.maxQueue {
			break
		}
		drained := w.drained
		w.mu.Unlock()
		w.signal()
		select {
		case <-drained:
		case <-w.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
	}
	w.queue = append(w.queue, o)
	full := len(w.queue) >= w.batch
	w.mu.Unlock()
	if full {
		w.signal()
	}
	return nil
}

// Flush writes what is queued and waits until it is committed.
func (w *Writer) Flush(ctx context.Context) error {
	w.Start(context.Background())
	reply := make(chan error, 1)
	w.mu.Lock()
	w.flushes = append(w.flushes, reply)
	w.mu.Unlock()
	w.signal()
	select {
	case err := <-reply:
		return err
	case <-w.done:
		return w.failed()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer; it returns the first
// write error. Closing twice is harmless.
func (w *Writer) Close() error {
	w.start.Do(func() { close(w.done) }) // never started: nothing was queued
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.halt()
	<-w.done
	return w.failed()
}

// halt tells the goroutine to write what is queued and end.
func (w *Writer) halt() { w.stopOnce.Do(func() { close(w.stop) }) }

func (w *Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Writer) loop() {
	defer close(w.done)
	if w.end != nil {
		defer w.end()
	}
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		last := false
		select {
		case <-w.wake:
		case <-t.C:
		case <-w.stop:
			last = true
		}
		w.writeQueued(last)
		if last {
			return
		}
	}
}

// writeQueued takes the queue and writes it in one transaction, then
// answers the flushes asked for before. The write does not stop when the
// writer is told to end: what was acknowledged is recorded.
func (w *Writer) writeQueued(last bool) {
	w.mu.Lock()
	batch := w.queue
	w.queue, w.spare = w.spare[:0], nil
	flushes := w.flushes
	w.flushes = nil
	close(w.drained)
	w.drained = make(chan struct{})
	if last {
		w.closed = true
	}
	w.mu.Unlock()

	var err error
	if len(batch) > 0 {
		err = w.write(context.Background(), batch)
	}
	clear(batch) // let the values go
	w.mu.Lock()
	w.spare = batch[:0]
	if err != nil && w.err == nil {
		w.err = err
	}
	err = w.err
	w.mu.Unlock()
	for _, f := range flushes {
		f <- err
	}
}

// Statements of the writer, prepared once per writer (prepared.Set).
const (
	sqlSaveRecord = `INSERT INTO records (reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, row_sum)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (reference) DO UPDATE SET hash = excluded.hash, vals = excluded.vals, crm_id = excluded.crm_id,
			crm_last_updated = excluded.crm_last_updated, crm_vals = excluded.crm_vals, pushed_at = excluded.pushed_at,
			crm_gone = 0, row_sum = excluded.row_sum`
	sqlClearFailure = `DELETE FROM failures WHERE reference = ?`
	sqlSaveFailure  = `INSERT INTO failures (reference, run_id, op, line, status, code, message, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (reference) DO UPDATE SET run_id = excluded.run_id, op = excluded.op, line = excluded.line,
			status = excluded.status, code = excluded.code, message = excluded.message, at = excluded.at`
	sqlKeepCopy = `INSERT INTO deleted (reference, crm_id, copy, run_id, deleted_at)
		VALUES (?1, coalesce(nullif(?2, 0), (SELECT crm_id FROM records WHERE reference = ?1), 0), ?3, ?4, ?5)`
	sqlDeleteRecord = `DELETE FROM records WHERE reference = ?`
)

// writeOutcomes records a batch, in order, in one transaction.
func (db *DB) writeOutcomes(ctx context.Context, stmts *prepared.Set, batch []Outcome) error {
	var ft *compact.Tx
	stmts.Ready(ctx) // outside the transaction, which holds the pool's one connection
	err := db.tx(ctx, func(tx *sql.Tx) error {
		ft = db.fields.Begin(ctx, tx)
		bw := &batchWriter{ctx: ctx, tx: stmts.Begin(tx), now: db.Now().Unix(), fields: ft}
		var err error
		if bw.failing, err = failingAmong(ctx, tx, batch); err != nil {
			return fmt.Errorf("read failures: %w", err)
		}
		for _, o := range batch {
			if err := bw.write(o); err != nil {
				return fmt.Errorf("%s of %s: %w", o.Op, o.Reference, err)
			}
		}
		return insertHistory(ctx, bw.tx, BatchHistory(batch))
	})
	if err != nil {
		return db.fail("write checkpoint", err)
	}
	ft.Commit()
	return nil
}

// batchWriter writes the outcomes of one batch transaction.
type batchWriter struct {
	ctx context.Context
	tx  *prepared.Tx // the writer's statements, in the transaction
	now int64
	// failing are the references of the batch with a stored failure: a
	// success clears only those (most outcomes have none to clear).
	failing map[string]bool
	fields  *compact.Tx // encodes values, adding new field names
	buf     []byte      // scratch: a record's values encoded
}

func (bw *batchWriter) exec(query string, args ...any) error {
	_, err := bw.tx.ExecContext(bw.ctx, query, args...)
	return err
}

// write records one outcome.
func (bw *batchWriter) write(o Outcome) error {
	var err error
	switch {
	case o.HistoryOnly():
		return nil
	case o.Failure != nil:
		f := *o.Failure
		f.RunID = cmp.Or(f.RunID, o.RunID)
		f.Op, f.Line = cmp.Or(f.Op, o.Op), cmp.Or(f.Line, o.Line)
		at := cmp.Or(unix(f.At), bw.now)
		err = bw.exec(sqlSaveFailure, o.Reference, f.RunID, f.Op, f.Line, f.Status, f.Code, f.Message, at)
		bw.failing[o.Reference] = true
		return err
	case o.Op == OpDelete:
		if o.DeletedCopy != nil {
			err = bw.exec(sqlKeepCopy, o.Reference, o.CRMID, string(o.DeletedCopy), o.RunID, bw.now)
		}
		if err == nil {
			err = bw.exec(sqlDeleteRecord, o.Reference)
		}
	default:
		err = bw.saveRecord(o)
	}
	if err == nil && bw.failing[o.Reference] {
		err = bw.exec(sqlClearFailure, o.Reference)
		delete(bw.failing, o.Reference)
	}
	return err
}

// saveRecord writes the record of a successful upsert.
func (bw *batchWriter) saveRecord(o Outcome) error {
	vals, err := bw.fields.Values(o.Values)
	if err != nil {
		return err
	}
	if bw.buf == nil {
		bw.buf = make([]byte, 0, 512) // never nil: nil is NULL
	}
	bw.buf = append(bw.buf[:0], vals...)
	crmVals, err := bw.fields.Diff(o.Values, o.CRMValues)
	if err != nil {
		return err
	}
	return bw.exec(sqlSaveRecord, o.Reference, compact.Hash(o.Hash), bw.buf, o.CRMID, millis(o.CRMLastUpdated), crmVals, bw.now, int64(o.RowSum))
}

// failingChunk bounds the references asked about in one query.
const failingChunk = 500

// failingAmong returns the references of the batch that have a stored
// failure: none without a query when no failure is stored at all, else
// by the reference's index, a chunk of references per query.
func failingAmong(ctx context.Context, tx *sql.Tx, batch []Outcome) (map[string]bool, error) {
	failing := map[string]bool{}
	var stored bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM failures)`).Scan(&stored); err != nil || !stored {
		return failing, err
	}
	for len(batch) > 0 {
		chunk := batch[:min(len(batch), failingChunk)]
		batch = batch[len(chunk):]
		args := make([]any, len(chunk))
		for i, o := range chunk {
			args[i] = o.Reference
		}
		q := `SELECT reference FROM failures WHERE reference IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		if err := scanReferences(ctx, tx, q, args, failing); err != nil {
			return nil, err
		}
	}
	return failing, nil
}

// scanReferences adds the references that query answers to set.
func scanReferences(ctx context.Context, tx *sql.Tx, query string, args []any, set map[string]bool) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return err
		}
		set[ref] = true
	}
	return rows.Err()
}
