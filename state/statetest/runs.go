package statetest

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"erpsync/state"
)

// testMarks: the watermark, the verified span and the full check are
// kept to the second, in UTC (the CRM's resolution); the fingerprint as
// it is. Each is zero (or "") until set.
func testMarks(h *H) {
	paris := time.FixedZone("CET", 3600)
	set := time.Date(2026, 3, 1, 3, 4, 5, 999_000_000, paris)
	want := time.Date(2026, 3, 1, 2, 4, 5, 0, time.UTC)
	for _, m := range []struct {
		name string
		get  func() (time.Time, error)
		set  func(time.Time) error
	}{
		{"watermark", func() (time.Time, error) { return h.CP.Watermark(ctx) }, func(t time.Time) error { return h.CP.SetWatermark(ctx, t) }},
		{"verified until", func() (time.Time, error) { return h.CP.VerifiedUntil(ctx) }, func(t time.Time) error { return h.CP.SetVerifiedUntil(ctx, t) }},
		{"full check", func() (time.Time, error) { return h.CP.FullCheck(ctx) }, func(t time.Time) error { return h.CP.SetFullCheck(ctx, t) }},
	} {
		if got, err := m.get(); err != nil || !got.IsZero() {
			h.Errorf("%s before any = %v, %v; want the zero time", m.name, got, err)
		}
		h.must(m.set(set))
		if got, err := m.get(); err != nil || got != want {
			h.Errorf("%s = %v, %v; want %v (to the second, in UTC)", m.name, got, err, want)
		}
		h.must(m.set(want.Add(-time.Hour)))
		if got, _ := m.get(); got != want.Add(-time.Hour) {
			h.Errorf("%s after a second set = %v; it moves back too", m.name, got)
		}
	}
	if fp, err := h.CP.Fingerprint(ctx); err != nil || fp != "" {
		h.Errorf("fingerprint before any = %q, %v", fp, err)
	}
	for _, fp := range []string{"fp-1", "fp-2", ""} {
		h.must(h.CP.SetFingerprint(ctx, fp))
		if got, err := h.CP.Fingerprint(ctx); err != nil || got != fp {
			h.Errorf("fingerprint = %q, %v; want %q", got, err, fp)
		}
	}
}

func testRuns(h *H) {
	now := Start.Add(500 * time.Millisecond)
	h.Clock.Set(now)
	id1, err := h.CP.StartRun(ctx, "import", "day1.csv", "sha1")
	h.must(err)
	now = now.Add(90 * time.Second)
	h.Clock.Set(now)
	h.must(h.CP.FinishRun(ctx, id1, state.StatusDone, map[string]int{"create": 3}, ""))
	now = now.Add(time.Hour)
	h.Clock.Set(now)
	id2, err := h.CP.StartRun(ctx, "run", "day2.csv", "")
	h.must(err)
	h.must(h.CP.NoteRunSHA(ctx, id2, "sha2"))
	now = now.Add(time.Second)
	h.Clock.Set(now)
	h.must(h.CP.FinishRun(ctx, id2, state.StatusFailed, nil, "CRM unreachable"))
	id3, err := h.CP.StartRun(ctx, "run", "day3.csv", "sha3")
	h.must(err)
	if !(id1 > 0 && id2 > id1 && id3 > id2) {
		h.Errorf("run ids %d, %d, %d: not ascending from 1", id1, id2, id3)
	}
	runs, err := h.CP.Runs(ctx, 10)
	h.must(err)
	sec := func(t time.Time) time.Time { return t.Truncate(time.Second) }
	want := []state.Run{
		{ID: id3, Kind: "run", File: "day3.csv", FileSHA256: "sha3", Status: state.StatusRunning, Started: sec(now), Counts: map[string]int{}},
		{ID: id2, Kind: "run", File: "day2.csv", FileSHA256: "sha2", Status: "failed", Started: sec(now.Add(-time.Second)), Ended: sec(now),
			Counts: map[string]int{}, Error: "CRM unreachable"},
		{ID: id1, Kind: "import", File: "day1.csv", FileSHA256: "sha1", Status: "done", Started: Start, Ended: sec(Start.Add(90 * time.Second)),
			Counts: map[string]int{"create": 3}},
	}
	if !reflect.DeepEqual(runs, want) {
		h.Errorf("runs =\n%+v\nwant\n%+v", runs, want)
	}
	if runs, _ := h.CP.Runs(ctx, 2); len(runs) != 2 || runs[0].ID != id3 || runs[1].ID != id2 {
		h.Errorf("Runs(2) = %+v", runs)
	}
	if runs, _ := h.CP.Runs(ctx, 0); len(runs) != 3 {
		h.Errorf("Runs(0) = %d runs, want all 3", len(runs))
	}
	if err := h.CP.FinishRun(ctx, 999, state.StatusDone, nil, ""); err == nil {
		h.Error("FinishRun of an unknown run succeeded")
	}
	if err := h.CP.NoteRunSHA(ctx, 999, "x"); err != nil {
		h.Errorf("NoteRunSHA of an unknown run: %v", err)
	}
}

// testSyncedLast: an export is the last synced only when the newest run
// took that very file (name and sha256) to the end; day 1's bytes after
// day 2 are not.
func testSyncedLast(h *H) {
	in := h.Inspector()
	steps := []struct {
		name              string
		file, sha, status string // the run recorded, "" for none
		askFile, askSHA   string
		wantSynced        bool
	}{
		{"an empty history", "", "", "", "inbox/customers.csv", "d1", false},
		{"the same file again", "inbox/customers.csv", "d1", state.StatusDone, "inbox/customers.csv", "d1", true},
		{"another name, same bytes", "", "", "", "inbox/copy.csv", "d1", false},
		{"same name, other bytes", "", "", "", "inbox/customers.csv", "d2", false},
		{"day 2 synced", "inbox/customers.csv", "d2", state.StatusDoneFailures, "inbox/customers.csv", "d2", true},
		{"day 1's bytes after day 2", "", "", "", "inbox/customers.csv", "d1", false},
		{"a failed run of another file since", "inbox/other.csv", "d3", state.StatusFailed, "inbox/customers.csv", "d2", false},
		{"the same file, failed", "inbox/customers.csv", "d2", state.StatusFailed, "inbox/customers.csv", "d2", false},
		{"the same file, still running", "inbox/customers.csv", "d2", state.StatusRunning, "inbox/customers.csv", "d2", false},
	}
	for _, s := range steps {
		if s.file != "" {
			id, err := h.CP.StartRun(ctx, "run", s.file, s.sha)
			h.must(err)
			if s.status != state.StatusRunning {
				h.must(h.CP.FinishRun(ctx, id, s.status, nil, ""))
			}
		}
		got, err := in.SyncedLast(ctx, s.askFile, s.askSHA)
		if h.must(err); got != s.wantSynced {
			h.Errorf("%s: SyncedLast(%s, %s) = %v, want %v", s.name, s.askFile, s.askSHA, got, s.wantSynced)
		}
	}
}

// testLock: one run at a time, whoever asks; a released lock is free; a
// late Release of a lock taken since by another frees nothing.
func testLock(h *H) {
	in := h.Inspector()
	if held, err := in.Holder(ctx); err != nil || held != nil {
		h.Fatalf("Holder of a new checkpoint = %+v, %v", held, err)
	}
	lock, err := h.CP.Acquire(ctx, "run")
	h.must(err)
	host, _ := os.Hostname()
	_, err = h.CP.Acquire(ctx, "import")
	var le *state.LockedError
	if !errors.As(err, &le) {
		h.Fatalf("second Acquire: %v, want a *LockedError", err)
	}
	Equal(h, "PID", le.PID, os.Getpid())
	Equal(h, "Host", le.Host, host)
	Equal(h, "Kind", le.Kind, "run")
	Equal(h, "Since", le.Since, Start)
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "2026-03-01T02:00:00Z", "run"} {
		if !strings.Contains(le.Error(), want) {
			h.Errorf("message %q does not say %q", le.Error(), want)
		}
	}
	if held, err := in.Holder(ctx); err != nil || held == nil || held.Kind != "run" || held.PID != os.Getpid() {
		h.Errorf("Holder = %+v, %v", held, err)
	}
	h.must(lock.Release(ctx))
	h.must(lock.Release(ctx))
	if lock.Lost() {
		h.Error("Lost after a clean release")
	}
	// A lock is told apart by pid, host and since (to the second): the
	// second holder starts a second later.
	h.Clock.Set(Start.Add(time.Second))
	l2, err := h.CP.Acquire(ctx, "import")
	if err != nil {
		h.Fatalf("after Release: %v", err)
	}
	if l2.TookOver != nil {
		h.Errorf("TookOver = %+v after a clean release", l2.TookOver)
	}
	h.must(lock.Release(ctx)) // late: frees nothing
	if _, err := h.CP.Acquire(ctx, "run"); !errors.As(err, &le) || le.Kind != "import" {
		h.Errorf("Acquire after a stale Release: %v, want held by the import", err)
	}
	h.must(l2.Release(ctx))
}

// testLockLostAtRelease: a holder whose lock was freed by hand learns it
// at Release at the latest.
func testLockLostAtRelease(h *H) {
	in := h.Inspector()
	l, err := h.CP.Acquire(ctx, "run")
	h.must(err)
	held, err := in.Holder(ctx)
	h.must(err)
	if ok, err := in.Unlock(ctx, held); !ok || err != nil {
		h.Fatalf("Unlock = %v, %v", ok, err)
	}
	if ok, err := in.Unlock(ctx, held); ok || err != nil {
		h.Errorf("second Unlock = %v, %v; want false", ok, err)
	}
	h.must(l.Release(ctx))
	if !l.Lost() {
		h.Error("Lost = false after the lock was freed under its holder")
	}
	select {
	case <-l.LostC():
	default:
		h.Error("LostC not closed")
	}
	if err := l.Release(ctx); err != nil || !l.Lost() {
		h.Errorf("second Release: %v, Lost %v", err, l.Lost())
	}
}

// testClock: the checkpoint's clock is the one it was given, and Verify
// finds a new checkpoint sound.
func testClock(h *H) {
	Equal(h, "Clock", h.CP.Clock(), Start)
	h.Clock.Set(Start.Add(time.Hour))
	Equal(h, "Clock", h.CP.Clock(), Start.Add(time.Hour))
	h.must(h.CP.Verify(ctx))
}

// testRunErrorBounded: a run's error text may hold a CRM's answer of any
// length; the run history keeps at most MaxRunError bytes of it, cut on
// a character's boundary and marked with the length it had.
func testRunErrorBounded(h *H) {
	id, err := h.CP.StartRun(ctx, "run", "day1.csv", "sha1")
	h.must(err)
	long := "upsert customer C1: 400 " + strings.Repeat("é", 100_000) // 2 bytes a character
	h.must(h.CP.FinishRun(ctx, id, state.StatusFailed, nil, long))
	runs, err := h.CP.Runs(ctx, 1)
	if err != nil || len(runs) != 1 {
		h.Fatalf("runs = %+v, %v", runs, err)
	}
	if got, want := runs[0].Error, state.ClipRunError(long); got != want || len(got) > state.MaxRunError+64 ||
		!utf8.ValidString(got) || !strings.Contains(got, "200024 bytes in all") {
		h.Errorf("stored error: %d bytes, valid UTF-8 %v, ends %q; want ClipRunError's %d bytes",
			len(got), utf8.ValidString(got), got[max(0, len(got)-60):], len(want))
	}
}
