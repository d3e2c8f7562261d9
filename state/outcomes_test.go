package state_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"erpsync/state"
)

func TestWriter_Outcomes(t *testing.T) {
	lu := fixedNow.Add(-time.Minute)
	good := state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: "A", Line: 2, Hash: "h1",
		Values: map[string]string{"name": "Alpha", "city": "Zürich"}, CRMID: 10, CRMLastUpdated: lu,
		CRMValues: map[string]string{"name": "Alpha", "city": "Zürich"}}
	goodRecord := &state.Record{Reference: "A", Hash: "h1", Values: good.Values, CRMID: 10, CRMLastUpdated: lu,
		CRMValues: good.CRMValues, PushedAt: fixedNow}
	refused := func(runID int64, op, code string) state.Outcome {
		return state.Outcome{RunID: runID, Op: op, Reference: "A", Line: 7,
			Failure: &state.Failure{Status: 400, Code: code, Message: "Failed to save instance."}}
	}
	get := func(t *testing.T, db *state.DB, ref string) *state.Record {
		t.Helper()
		r, err := db.Get(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	failures := func(t *testing.T, db *state.DB) []state.Failure {
		t.Helper()
		fs, err := db.Failures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}

	t.Run("a success records what was pushed and seen, at the clock's time", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, good)
		if got := get(t, db, "A"); !reflect.DeepEqual(got, goodRecord) {
			t.Errorf("A = %+v\nwant %+v", got, goodRecord)
		}
		if r := get(t, db, "unknown"); r != nil {
			t.Errorf("unknown reference = %+v, want nil", r)
		}
	})

	t.Run("no values are stored as empty maps", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, state.Outcome{Op: state.OpUpsert, Reference: "E", Hash: "h"})
		r := get(t, db, "E")
		if r == nil || r.Values == nil || len(r.Values) != 0 || len(r.CRMValues) != 0 || !r.CRMLastUpdated.IsZero() {
			t.Errorf("E = %+v", r)
		}
	})

	t.Run("a failure keeps the last good record", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, good)
		db.Now = func() time.Time { return fixedNow.Add(time.Hour) }
		MustWrite(t, db, refused(2, state.OpUpsert, "save_failed"))
		if got := get(t, db, "A"); !reflect.DeepEqual(got, goodRecord) {
			t.Errorf("A = %+v\nwant the last good %+v", got, goodRecord)
		}
		want := []state.Failure{{RunID: 2, Op: "upsert", Reference: "A", Line: 7, Status: 400, Code: "save_failed",
			Message: "Failed to save instance.", At: fixedNow.Add(time.Hour)}}
		if got := failures(t, db); !reflect.DeepEqual(got, want) {
			t.Errorf("failures = %+v\nwant %+v", got, want)
		}
	})

	t.Run("a failure of a reference never pushed creates no record", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, refused(1, state.OpUpsert, "invalid_param"))
		if r := get(t, db, "A"); r != nil {
			t.Errorf("A = %+v, want nil", r)
		}
		mustEqual(t, "failures", len(failures(t, db)), 1)
	})

	t.Run("a failure replaces the previous one, with its own fields", func(t *testing.T) {
		db := MustOpenDB(t)
		at := fixedNow.Add(-time.Hour)
		second := refused(3, state.OpDelete, "delete_failed")
		second.Failure = &state.Failure{RunID: 9, Op: state.OpDelete, Line: 8, Status: 409, Code: "delete_failed", Message: "in use", At: at}
		MustWrite(t, db, refused(2, state.OpUpsert, "save_failed"), second)
		want := []state.Failure{{RunID: 9, Op: "delete", Reference: "A", Line: 8, Status: 409, Code: "delete_failed", Message: "in use", At: at}}
		if got := failures(t, db); !reflect.DeepEqual(got, want) {
			t.Errorf("failures = %+v\nwant %+v", got, want)
		}
	})

	t.Run("a success clears the failure", func(t *testing.T) {
		db := MustOpenDB(t)
		other := good
		other.Reference = "B"
		MustWrite(t, db, refused(1, state.OpUpsert, "save_failed"), other)
		mustEqual(t, "failures before", len(failures(t, db)), 1)
		MustWrite(t, db, good)
		if got := failures(t, db); len(got) != 0 {
			t.Errorf("failures after success = %+v", got)
		}
	})

	t.Run("a success clears the failure of the same batch, and of one far in a big batch", func(t *testing.T) {
		db := MustOpenDB(t)
		far := refused(1, state.OpUpsert, "save_failed")
		far.Reference = "Z-far"
		MustWrite(t, db, far)
		batch := []state.Outcome{refused(1, state.OpUpsert, "save_failed"), good}
		for i := range 1200 {
			o := good
			o.Reference = fmt.Sprintf("N-%04d", i)
			batch = append(batch, o)
		}
		fixed := good
		fixed.Reference = "Z-far"
		// One transaction: the writer's batch is bigger than the outcomes.
		w := db.NewWriter(5000, time.Hour)
		for _, o := range append(batch, fixed) {
			if err := w.Put(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := failures(t, db); len(got) != 0 {
			t.Errorf("failures after the successes = %+v", got)
		}
	})

	t.Run("a delete keeps the CRM's copy and removes the record", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, good, refused(1, state.OpDelete, "delete_failed"))
		db.Now = func() time.Time { return fixedNow.Add(24 * time.Hour) }
		MustWrite(t, db, state.Outcome{RunID: 4, Op: state.OpDelete, Reference: "A", DeletedCopy: []byte(`{"id":10,"name":"Alpha"}`)})
		if r := get(t, db, "A"); r != nil {
			t.Errorf("A still managed after its delete: %+v", r)
		}
		mustEqual(t, "count", count(t, db), 0)
		if got := failures(t, db); len(got) != 0 {
			t.Errorf("failures after the delete = %+v", got)
		}
		copies, err := db.DeletedCopies(ctx, "A")
		if err != nil {
			t.Fatal(err)
		}
		// The CRM id comes from the record when the outcome has none.
		want := []state.Deleted{{Reference: "A", CRMID: 10, Copy: []byte(`{"id":10,"name":"Alpha"}`), RunID: 4, DeletedAt: fixedNow.Add(24 * time.Hour)}}
		if !reflect.DeepEqual(copies, want) {
			t.Errorf("copies = %+v\nwant %+v", copies, want)
		}
	})

	t.Run("a failed delete keeps the record", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, good, refused(2, state.OpDelete, "delete_failed"))
		if got := get(t, db, "A"); !reflect.DeepEqual(got, goodRecord) {
			t.Errorf("A = %+v", got)
		}
		if copies, _ := db.DeletedCopies(ctx, "A"); len(copies) != 0 {
			t.Errorf("a copy was kept for a failed delete: %+v", copies)
		}
	})

	t.Run("outcomes of one batch apply in order", func(t *testing.T) {
		db := MustOpenDB(t)
		second := good
		second.Hash = "h2"
		MustWrite(t, db, good, state.Outcome{Op: state.OpDelete, Reference: "A"}, second)
		if r := get(t, db, "A"); r == nil || r.Hash != "h2" {
			t.Errorf("A = %+v, want hash h2", r)
		}
	})
}
