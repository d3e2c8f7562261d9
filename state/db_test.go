package state_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"erpsync/state"
)

var ctx = context.Background()

// fixedNow is the clock of the tests.
var fixedNow = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// MustOpenDB opens a checkpoint in a temporary folder.
func MustOpenDB(tb testing.TB) *state.DB {
	tb.Helper()
	db := state.NewDB(filepath.Join(tb.TempDir(), "erpsync.db"))
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestDB_Open(t *testing.T) {
	db := MustOpenDB(t)
	st, err := os.Stat(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	if err := db.SetWatermark(ctx, fixedNow); err != nil {
		t.Fatal(err)
	}
	db.Close()

	again := state.NewDB(db.Path)
	if err := again.Open(ctx); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	if w, err := again.Watermark(ctx); err != nil || !w.Equal(fixedNow) {
		t.Errorf("watermark after reopen = %v, %v", w, err)
	}
}

func TestDB_OpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "other.db")
	other, err := sql.Open("sqlite3", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me')"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	{
		db := state.NewDB(corrupt)
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
		data, _ := os.ReadFile(corrupt)
		for i := 100; i < len(data); i++ { // keep the header, ruin the pages
			data[i] = 0xA5
		}
		os.WriteFile(corrupt, data, 0o600)
	}
	for _, path := range []string{foreign, garbage, corrupt} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			before, _ := os.ReadFile(path)
			db := state.NewDB(path)
			err := db.Open(ctx)
			var ue *state.UnusableError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want UnusableError", err)
			}
			db.Close()
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("the file was changed")
			}
		})
	}
}

func TestDB_Acquire(t *testing.T) {
	db := MustOpenDB(t)
	lock, err := db.Acquire(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Acquire(ctx, "import")
	var le *state.LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || le.Kind != "run" || !le.Since.Equal(fixedNow) {
		t.Fatalf("second acquire: %v", err)
	}
	if msg := le.Error(); !bytes.Contains([]byte(msg), []byte(fmt.Sprintf("pid %d", os.Getpid()))) {
		t.Errorf("message %q does not name the pid", msg)
	}
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if l2, err := db.Acquire(ctx, "import"); err != nil {
		t.Fatalf("after release: %v", err)
	} else {
		l2.Release(ctx)
	}

	t.Run("dead process is taken over", func(t *testing.T) {
		raw, err := sql.Open("sqlite3", db.Path)
		if err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		if _, err := raw.Exec(`INSERT INTO lock (id, pid, host, kind, since) VALUES (1, 999999999, ?, 'run', 1)`, host); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		l, err := db.Acquire(ctx, "run")
		if err != nil {
			t.Fatal(err)
		}
		if l.TookOver == nil || l.TookOver.PID != 999999999 {
			t.Errorf("TookOver = %+v", l.TookOver)
		}
		l.Release(ctx)
	})
}

func TestWriter_Outcomes(t *testing.T) {
	db := MustOpenDB(t)
	w := db.NewWriter(2, time.Hour)
	put := func(o state.Outcome) {
		t.Helper()
		if err := w.Put(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	lu := fixedNow.Add(-time.Minute)
	put(state.Outcome{RunID: 1, Op: "upsert", Reference: "A", Hash: "h1", Values: map[string]string{"name": "A"},
		CRMID: 10, CRMLastUpdated: lu, CRMValues: map[string]string{"name": "A"}})
	put(state.Outcome{RunID: 1, Op: "upsert", Reference: "B", Hash: "hb", Values: map[string]string{"name": "B"}, CRMID: 11})
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// A failure keeps the last good record.
	put(state.Outcome{RunID: 2, Op: "upsert", Reference: "A", Line: 7,
		Failure: &state.Failure{Op: "upsert", Line: 7, Status: 400, Code: "save_failed", Message: "Failed to save instance."}})
	put(state.Outcome{RunID: 2, Op: "delete", Reference: "B", CRMID: 11, DeletedCopy: []byte(`{"id":11}`)})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, state.Outcome{Reference: "late"}); !errors.Is(err, state.ErrWriterClosed) {
		t.Errorf("put after close: %v", err)
	}

	a, err := db.Get(ctx, "A")
	if err != nil || a == nil {
		t.Fatalf("A = %v, %v", a, err)
	}
	if a.Hash != "h1" || a.CRMID != 10 || !a.CRMLastUpdated.Equal(lu) || a.Values["name"] != "A" || !a.PushedAt.Equal(fixedNow) {
		t.Errorf("A = %+v", a)
	}
	fails, err := db.Failures(ctx)
	if err != nil || len(fails) != 1 || fails[0].Reference != "A" || fails[0].Line != 7 || fails[0].Code != "save_failed" || fails[0].RunID != 2 {
		t.Errorf("failures = %+v, %v", fails, err)
	}
	if b, _ := db.Get(ctx, "B"); b != nil {
		t.Errorf("B still managed after delete: %+v", b)
	}
	copies, err := db.DeletedCopies(ctx, "B")
	if err != nil || len(copies) != 1 || string(copies[0].Copy) != `{"id":11}` {
		t.Errorf("deleted copies = %+v, %v", copies, err)
	}

	// A later success clears the failure.
	w2 := db.NewWriter(100, time.Hour)
	if err := w2.Put(ctx, state.Outcome{RunID: 3, Op: "upsert", Reference: "A", Hash: "h2", Values: map[string]string{"name": "A2"}}); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if fails, _ := db.Failures(ctx); len(fails) != 0 {
		t.Errorf("failures after success = %+v", fails)
	}
	if n, _ := db.Count(ctx); n != 1 {
		t.Errorf("count = %d, want 1", n)
	}
}

func TestWriter_Concurrent(t *testing.T) {
	db := MustOpenDB(t)
	w := db.NewWriter(50, 10*time.Millisecond)
	var wg gosync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				ref := fmt.Sprintf("R-%d-%03d", g, i)
				if err := w.Put(ctx, state.Outcome{Op: "upsert", Reference: ref, Hash: "h"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var refs []string
	if err := db.Hashes(ctx, func(ref, _ string) error { refs = append(refs, ref); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 800 || refs[0] != "R-0-000" || refs[799] != "R-7-099" {
		t.Errorf("%d hashes, first %v", len(refs), refs[:min(len(refs), 2)])
	}
}

func TestDB_SaveSeen(t *testing.T) {
	db := MustOpenDB(t)
	w := db.NewWriter(10, time.Hour)
	w.Put(ctx, state.Outcome{Op: "upsert", Reference: "MINE", Hash: "h", Values: map[string]string{"name": "x"}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lu := fixedNow.Add(time.Hour)
	err := db.SaveSeen(ctx, []state.Seen{
		{Reference: "MINE", CRMID: 5, CRMLastUpdated: lu, CRMValues: map[string]string{"name": "edited"}},
		{Reference: "NOT-OURS", CRMID: 6},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := db.Get(ctx, "MINE")
	if r.CRMID != 5 || !r.CRMLastUpdated.Equal(lu) || r.CRMValues["name"] != "edited" || r.Values["name"] != "x" {
		t.Errorf("MINE = %+v", r)
	}
	if r, _ := db.Get(ctx, "NOT-OURS"); r != nil {
		t.Errorf("an unmanaged reference became managed: %+v", r)
	}
}

func TestDB_Runs(t *testing.T) {
	db := MustOpenDB(t)
	id1, err := db.StartRun(ctx, "run", "day1.csv", "sha1")
	if err != nil {
		t.Fatal(err)
	}
	if done, _ := db.ProcessedFile(ctx, "sha1"); done {
		t.Error("a running run counts as processed")
	}
	db.FinishRun(ctx, id1, state.StatusDone, map[string]int{"create": 3}, "")
	id2, _ := db.StartRun(ctx, "run", "day2.csv", "sha2")
	db.FinishRun(ctx, id2, "failed", nil, "CRM unreachable")
	runs, err := db.Runs(ctx, 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	if runs[0].ID != id2 || runs[0].Error != "CRM unreachable" || runs[1].Counts["create"] != 3 || !runs[1].Started.Equal(fixedNow) {
		t.Errorf("runs = %+v", runs)
	}
	for sha, want := range map[string]bool{"sha1": true, "sha2": false, "sha3": false} {
		if got, _ := db.ProcessedFile(ctx, sha); got != want {
			t.Errorf("ProcessedFile(%s) = %v, want %v", sha, got, want)
		}
	}
	if err := db.SetFingerprint(ctx, "fp1"); err != nil {
		t.Fatal(err)
	}
	if fp, _ := db.Fingerprint(ctx); fp != "fp1" {
		t.Errorf("fingerprint = %q", fp)
	}
}
