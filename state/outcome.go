package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
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

	// Pushed, when it holds names, is Values and CRMValues in order
	// instead, and both maps are nil (Maps makes them): an import's
	// million upserts make no two million maps.
	Pushed Pushed

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

// Pushed are the values of an upsert in order, and the CRM's where
// they differ: what Outcome.Values and Outcome.CRMValues hold, without
// a map.
type Pushed struct {
	Names []string // the field names, sorted, shared by the customers of a read: never changed
	Vals  []string // their values pushed, as many
	// Held are the fields the CRM holds otherwise, by ascending At (an
	// index into Names; a checkpoint refuses others, Maps skips them);
	// none: it holds every value as pushed.
	Held []Held
}

// Held is a field the CRM holds otherwise than pushed.
type Held struct {
	At     int    // the field's index in Pushed.Names
	Value  string // what the CRM holds
	Absent bool   // the CRM's answer has no such field (Value is "")
}

// Maps returns the outcome's values pushed and the CRM's, made from
// Pushed when it holds names (new maps), else Values and CRMValues.
func (o *Outcome) Maps() (vals, crm map[string]string) {
	p := &o.Pushed
	if len(p.Names) == 0 {
		return o.Values, o.CRMValues
	}
	vals = make(map[string]string, len(p.Names))
	crm = make(map[string]string, len(p.Names))
	for i, name := range p.Names {
		if i < len(p.Vals) {
			vals[name], crm[name] = p.Vals[i], p.Vals[i]
		}
	}
	for _, h := range p.Held {
		if h.At < 0 || h.At >= len(p.Names) {
			continue // none of Names: no field of the CRM's
		}
		if h.Absent {
			delete(crm, p.Names[h.At])
		} else {
			crm[p.Names[h.At]] = h.Value
		}
	}
	return vals, crm
}

// Writer is the checkpoint's one writer: outcomes are queued by Put, from
// any number of goroutines, and written by the writer's goroutine in
// batched transactions: when batch outcomes are queued, every interval,
// on Flush, and when it stops. While a batch is written, Put goes on
// queueing; it waits only when the queue is full: two batches, and at
// least 2,000 outcomes (a kill loses at most those and the batch being
// written).
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
	end     func() error // at the goroutine's end (EndWith)
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
	return &Writer{write: write, batch: batch, every: every, maxQueue: max(2*batch, 2000),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		drained: make(chan struct{})}
}

// EndWith has end run when the writer's goroutine ends: a checkpoint's
// statements, kept prepared from one batch to the next, closed. Call it
// before the writer starts.
func (w *Writer) EndWith(end func() error) *Writer {
	w.end = end
	return w
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
// waits for room only when the queue is full (Writer): ctx bounds that wait
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
