package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

func count(t *testing.T, db *sqlite.DB) int {
	t.Helper()
	n, err := db.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWriter_Batching(t *testing.T) {
	// In a synctest bubble the writer's ticker runs on the bubble's fake
	// clock, and synctest.Wait returns once the writer's goroutine is idle
	// (blocked on its channels, not writing): what it has not written by
	// then it would not write without a new signal.
	t.Run("a full batch is written, a partial one waits", func(t *testing.T) {
		db := MustOpenDB(t)
		synctest.Test(t, func(t *testing.T) {
			w := db.NewWriter(3, time.Hour)
			defer w.Close()
			for _, ref := range []string{"A", "B"} {
				if err := w.Put(ctx, upsert(ref, "h", nil)); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait()
			if n := count(t, db); n != 0 {
				t.Fatalf("%d records written before the batch was full", n)
			}
			if err := w.Put(ctx, upsert("C", "h", nil)); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			mustEqual(t, "count once the batch is full", count(t, db), 3)
		})
	})

	t.Run("a partial batch is written after the interval", func(t *testing.T) {
		db := MustOpenDB(t)
		synctest.Test(t, func(t *testing.T) {
			const every = time.Minute
			w := db.NewWriter(1000, every)
			defer w.Close()
			if err := w.Put(ctx, upsert("A", "h", nil)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(every - time.Second) // fake time: instant
			synctest.Wait()
			mustEqual(t, "count before the interval", count(t, db), 0)
			time.Sleep(time.Second)
			synctest.Wait()
			mustEqual(t, "count after the interval", count(t, db), 1)
		})
	})

	t.Run("Flush waits for the commit", func(t *testing.T) {
		db := MustOpenDB(t)
		w := db.NewWriter(1000, time.Hour)
		defer w.Close()
		for i := range 10 {
			if err := w.Put(ctx, upsert(fmt.Sprint("R", i), "h", nil)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "count after Flush", count(t, db), 10)
		if err := w.Flush(ctx); err != nil {
			t.Errorf("Flush of nothing: %v", err)
		}
	})

	t.Run("Close flushes and stops", func(t *testing.T) {
		db := MustOpenDB(t)
		w := db.NewWriter(1000, time.Hour)
		for i := range 25 {
			if err := w.Put(ctx, upsert(fmt.Sprint("R", i), "h", nil)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "count after Close", count(t, db), 25)
		if err := w.Put(ctx, upsert("late", "h", nil)); !errors.Is(err, state.ErrWriterClosed) {
			t.Errorf("Put after Close = %v, want ErrWriterClosed", err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Errorf("Flush after Close: %v", err)
		}
	})

	t.Run("Close of a writer never used", func(t *testing.T) {
		db := MustOpenDB(t)
		w := db.NewWriter(0, 0)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Put(ctx, upsert("A", "h", nil)); !errors.Is(err, state.ErrWriterClosed) {
			t.Errorf("Put after Close = %v, want ErrWriterClosed", err)
		}
	})

	t.Run("Run ends with its context, writing what is queued", func(t *testing.T) {
		db := MustOpenDB(t)
		w := db.NewWriter(1000, time.Hour)
		runCtx, cancel := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- w.Run(runCtx) }()
		for i := range 7 {
			if err := w.Put(ctx, upsert(fmt.Sprint("R", i), "h", nil)); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "count after the end", count(t, db), 7)
		if err := w.Put(ctx, upsert("late", "h", nil)); !errors.Is(err, state.ErrWriterClosed) {
			t.Errorf("Put after the end = %v, want ErrWriterClosed", err)
		}
		if err := w.Run(ctx); err != nil {
			t.Errorf("Run of an ended writer = %v", err)
		}
	})

	t.Run("Start's context ends the writer too", func(t *testing.T) {
		db := MustOpenDB(t)
		w := db.NewWriter(1000, time.Hour)
		if err := w.Put(ctx, upsert("A", "h", nil)); err != nil { // starts it
			t.Fatal(err)
		}
		startCtx, cancel := context.WithCancel(ctx)
		w.Start(startCtx)
		cancel()
		if err := w.Run(ctx); err != nil { // waits for the end
			t.Fatal(err)
		}
		mustEqual(t, "count", count(t, db), 1)
		if err := w.Put(ctx, upsert("B", "h", nil)); !errors.Is(err, state.ErrWriterClosed) {
			t.Errorf("Put after the end = %v, want ErrWriterClosed", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Put queues even when its context is done", func(t *testing.T) {
		// An acknowledged request must be recorded even after SIGINT.
		db := MustOpenDB(t)
		w := db.NewWriter(1000, time.Hour)
		done, cancel := context.WithCancel(ctx)
		cancel()
		if err := w.Put(done, upsert("A", "h", nil)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "count", count(t, db), 1)
	})

	t.Run("bad outcomes are refused at once", func(t *testing.T) {
		db := MustOpenDB(t)
		w := db.NewWriter(10, time.Hour)
		defer w.Close()
		for _, o := range []state.Outcome{{Op: "upsert"}, {Op: "create", Reference: "A"}, {Reference: "A"}} {
			if err := w.Put(ctx, o); err == nil {
				t.Errorf("Put(%+v) succeeded", o)
			}
		}
		if err := w.Put(ctx, upsert("B", "h", nil)); err != nil {
			t.Errorf("a good outcome after bad ones: %v", err)
		}
	})

	t.Run("a write error is returned, not swallowed", func(t *testing.T) {
		db := MustOpenDB(t)
		w := db.NewWriter(1000, time.Hour)
		if err := w.Put(ctx, upsert("A", "h", nil)); err != nil {
			t.Fatal(err)
		}
		db.Close() // the writer's next transaction fails
		if err := w.Flush(ctx); err == nil {
			t.Error("Flush succeeded on a closed database")
		}
		if err := w.Put(ctx, upsert("B", "h", nil)); err == nil {
			t.Error("Put succeeded after a failed write")
		}
		if err := w.Close(); err == nil {
			t.Error("Close returned no error after a failed write")
		}
	})
}

// TestWriter_Concurrent puts from many goroutines while others flush and
// read; run it with -race.
func TestWriter_Concurrent(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	db := MustOpenDB(t)
	w := db.NewWriter(16, 2*time.Millisecond) // a small batch: Put must wait for room
	const producers, each = 16, 250
	var wg gosync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			for i := range each {
				ref := fmt.Sprintf("R-%02d-%03d", g, i)
				if err := w.Put(ctx, upsert(ref, fmt.Sprint("h", i), map[string]string{"g": fmt.Sprint(g)})); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					if err := w.Flush(ctx); err != nil {
						t.Error(err)
						return
					}
					if r, err := db.Get(ctx, ref); err != nil || r == nil {
						t.Errorf("Get(%s) right after Flush = %v, %v", ref, r, err)
						return
					}
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers gosync.WaitGroup
	readers.Go(func() {
		for last := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			n, err := db.Count(ctx)
			if err != nil || n < last {
				t.Errorf("Count = %d after %d, %v", n, last, err)
				return
			}
			last = n
		}
	})
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	readers.Wait()

	var refs []string
	if err := db.Hashes(ctx, func(ref, _ string) error { refs = append(refs, ref); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(refs) != producers*each || refs[0] != "R-00-000" || refs[len(refs)-1] != "R-15-249" {
		t.Fatalf("%d hashes, first and last %v; want %d", len(refs), []string{refs[0], refs[len(refs)-1]}, producers*each)
	}
	r, _ := db.Get(ctx, "R-07-123")
	if r == nil || r.Hash != "h123" || !maps.Equal(r.Values, map[string]string{"g": "7"}) {
		t.Errorf("R-07-123 = %+v", r)
	}
}

// One batch of outcomes whose values have the same keys, then other keys
// of the same number, then fewer: each record keeps its own values (the
// writer reuses the sorted keys of the outcome before only when they are
// the same).
func TestWriter_ValuesOfChangingKeys(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	db := MustOpenDB(t)
	want := map[string]map[string]string{
		"A": {"name": "Ann", "city": "Zürich"},
		"B": {"city": "Lyon", "name": "Bob"},
		"C": {"name": "Cy", "email": "c@example.com"},
		"D": {"email": "d@example.com"},
		"E": {"name": "Eve", "city": "Nice"},
	}
	var outs []state.Outcome
	for _, ref := range []string{"A", "B", "C", "D", "E"} {
		o := upsert(ref, "h"+ref, want[ref])
		o.CRMValues = maps.Clone(want[ref])
		if ref == "B" {
			o.CRMValues["city"] = "LYON" // the CRM's answer differs
		}
		if ref == "E" {
			o.CRMValues = o.Values // held as sent, one map: AppendRecord's shortcut
		}
		outs = append(outs, o)
	}
	MustWrite(t, db, outs...)
	for ref, vals := range want {
		rec, err := db.Get(ctx, ref)
		if err != nil || rec == nil {
			t.Fatalf("record %s: %v, %v", ref, rec, err)
		}
		if !maps.Equal(rec.Values, vals) {
			t.Errorf("values of %s = %v, want %v", ref, rec.Values, vals)
		}
		wantCRM := vals
		if ref == "B" {
			wantCRM = map[string]string{"city": "LYON", "name": "Bob"}
		}
		if !maps.Equal(rec.CRMValues, wantCRM) {
			t.Errorf("CRM values of %s = %v, want %v", ref, rec.CRMValues, wantCRM)
		}
	}
}
