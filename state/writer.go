package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Outcome is the result of one request, as the writer records it.
type Outcome struct {
	RunID     int64
	Op        string // "upsert" | "delete"
	Reference string
	Line      int

	// An upsert that succeeded: what was pushed and what the CRM answered.
	Hash           string
	Values         map[string]string
	CRMID          int64
	CRMLastUpdated time.Time
	CRMValues      map[string]string

	// A delete that succeeded: the CRM's last copy, kept for an audit.
	DeletedCopy []byte

	// Failure, when set, is a row failure: the record keeps its last good
	// state, and the failure waits for the next run.
	Failure *Failure
}

// Failure is a row the CRM refused.
type Failure struct {
	RunID     int64
	Op        string
	Reference string
	Line      int
	Status    int
	Code      string
	Message   string
	At        time.Time
}

// Writer is the checkpoint's one writer: outcomes are queued and written
// in batched transactions by its goroutine.
type Writer struct {
	db    *DB
	batch int
	every time.Duration

	in      chan Outcome // unbuffered: once the loop has ended, no Put can slip in
	flushc  chan chan error
	stopc   chan struct{}
	done    chan struct{}
	errMu   sync.Mutex
	err     error
	closeMu sync.Once
}

// NewWriter starts a writer that commits every batch outcomes or every
// interval, whichever comes first.
func (db *DB) NewWriter(batch int, every time.Duration) *Writer {
	if batch <= 0 {
		batch = 500
	}
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	w := &Writer{db: db, batch: batch, every: every,
		in: make(chan Outcome), flushc: make(chan chan error), stopc: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// ErrWriterClosed is returned by Put after Close.
var ErrWriterClosed = errors.New("checkpoint writer closed")

// Put queues an outcome. It returns the writer's first error, if a write
// has failed.
func (w *Writer) Put(ctx context.Context, o Outcome) error {
	if err := w.failed(); err != nil {
		return err
	}
	select {
	case w.in <- o:
		return nil
	case <-w.stopc:
		return ErrWriterClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush writes what is queued and waits for it.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flushc <- reply:
	case <-w.done:
		return w.failed()
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer.
func (w *Writer) Close() error {
	w.closeMu.Do(func() { close(w.stopc) })
	<-w.done
	return w.failed()
}

func (w *Writer) failed() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	pending := make([]Outcome, 0, w.batch)
	write := func() error {
		if len(pending) == 0 {
			return w.failed()
		}
		err := w.db.writeOutcomes(context.Background(), pending)
		pending = pending[:0]
		if err != nil {
			w.errMu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.errMu.Unlock()
		}
		return w.failed()
	}
	for {
		select {
		case o := <-w.in:
			pending = append(pending, o)
			if len(pending) >= w.batch {
				_ = write()
			}
		case reply := <-w.flushc:
			reply <- write()
		case <-w.stopc:
			_ = write()
			return
		case <-t.C:
			_ = write()
		}
	}
}

// writeOutcomes records a batch in one transaction.
func (db *DB) writeOutcomes(ctx context.Context, batch []Outcome) error {
	now := db.Now().Unix()
	err := db.tx(ctx, func(tx *sql.Tx) error {
		upsert, err := tx.PrepareContext(ctx, `INSERT INTO records (reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (reference) DO UPDATE SET hash = excluded.hash, vals = excluded.vals, crm_id = excluded.crm_id,
				crm_last_updated = excluded.crm_last_updated, crm_vals = excluded.crm_vals, pushed_at = excluded.pushed_at`)
		if err != nil {
			return err
		}
		defer upsert.Close()
		clearFail, err := tx.PrepareContext(ctx, `DELETE FROM failures WHERE reference = ?`)
		if err != nil {
			return err
		}
		defer clearFail.Close()
		for _, o := range batch {
			switch {
			case o.Failure != nil:
				f := o.Failure
				_, err = tx.ExecContext(ctx, `INSERT INTO failures (reference, run_id, op, line, status, code, message, at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (reference) DO UPDATE SET run_id = excluded.run_id, op = excluded.op, line = excluded.line,
						status = excluded.status, code = excluded.code, message = excluded.message, at = excluded.at`,
					o.Reference, o.RunID, f.Op, f.Line, f.Status, f.Code, f.Message, now)
			case o.Op == "delete":
				if _, err = tx.ExecContext(ctx, `DELETE FROM records WHERE reference = ?`, o.Reference); err == nil && o.DeletedCopy != nil {
					_, err = tx.ExecContext(ctx, `INSERT INTO deleted (reference, crm_id, copy, run_id, deleted_at) VALUES (?, ?, ?, ?, ?)`,
						o.Reference, o.CRMID, string(o.DeletedCopy), o.RunID, now)
				}
				if err == nil {
					_, err = clearFail.ExecContext(ctx, o.Reference)
				}
			default:
				var vals, crmVals []byte
				if vals, err = json.Marshal(nonNil(o.Values)); err == nil {
					crmVals, err = json.Marshal(nonNil(o.CRMValues))
				}
				if err == nil {
					_, err = upsert.ExecContext(ctx, o.Reference, o.Hash, string(vals), o.CRMID, unix(o.CRMLastUpdated), string(crmVals), now)
				}
				if err == nil {
					_, err = clearFail.ExecContext(ctx, o.Reference)
				}
			}
			if err != nil {
				return fmt.Errorf("record %s of %s: %w", o.Op, o.Reference, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// Failures returns the pending row failures, by reference.
func (db *DB) Failures(ctx context.Context) ([]Failure, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT reference, run_id, op, line, status, code, message, at FROM failures ORDER BY reference`)
	if err != nil {
		return nil, fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
		var at int64
		if err := rows.Scan(&f.Reference, &f.RunID, &f.Op, &f.Line, &f.Status, &f.Code, &f.Message, &at); err != nil {
			return nil, err
		}
		f.At = fromUnix(at)
		out = append(out, f)
	}
	return out, rows.Err()
}
