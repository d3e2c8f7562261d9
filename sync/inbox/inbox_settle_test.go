package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"erpsync/state/statetest"
	"erpsync/sync/inbox"
)

// Guarantee: the inbox takes a file only once its size and modification
// time stayed the same for Settle. The inbox's clock is the test's: no
// sleep.
func TestInbox_Settle(t *testing.T) {
	const settle = 10 * time.Second
	ctx := context.Background()
	notSynced := func(context.Context, string, string) (bool, error) { return false, nil }

	// write sets the file's content and modification time.
	write := func(t *testing.T, path, content string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	// next asks the inbox at the clock's time and says whether it took path.
	next := func(t *testing.T, in *inbox.Inbox, path string) bool {
		t.Helper()
		exp, skipped, err := in.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if exp == nil {
			if len(skipped) != 1 || skipped[0].Path != path {
				t.Fatalf("at %s: passed over %+v, want %s as still changing", in.Now(), skipped, path)
			}
			return false
		}
		if exp.Path != path {
			t.Fatalf("took %s, want %s", exp.Path, path)
		}
		return true
	}

	t.Run("taken once unchanged for settle", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "customers.csv")
		clock := settleClock()
		in := &inbox.Inbox{Pattern: filepath.Join(dir, "*.csv"), Settle: settle, Now: clock.Now, SyncedLast: notSynced}
		t0 := clock.Now()
		steps := []struct {
			advance time.Duration
			change  func(t *testing.T)
			taken   bool
		}{
			{0, func(t *testing.T) { write(t, path, "reference\nA\n", t0) }, false},                                     // just written
			{5 * time.Second, func(t *testing.T) { write(t, path, "reference\nA\nB\n", t0.Add(5*time.Second)) }, false}, // grows
			{9 * time.Second, nil, false}, // 9 s unchanged
			{0, func(t *testing.T) { write(t, path, "reference\nA\nC\n", t0.Add(14*time.Second)) }, false}, // same size, touched
			{9*time.Second + 999*time.Millisecond, nil, false},
			{time.Millisecond, nil, true}, // 10 s unchanged
		}
		for i, s := range steps {
			clock.Set(clock.Now().Add(s.advance))
			if s.change != nil {
				s.change(t)
			}
			if got := next(t, in, path); got != s.taken {
				t.Fatalf("step %d at +%s: taken = %v, want %v", i, clock.Now().Sub(t0), got, s.taken)
			}
		}
		exp, _, err := in.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := inbox.FileSHA256(path)
		if err != nil || exp == nil || exp.SHA256 != want {
			t.Errorf("export %+v, want sha256 %s (%v)", exp, want, err)
		}
	})

	t.Run("a file older than settle is taken at first sight", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "customers.csv")
		clock := settleClock()
		write(t, path, "reference\nA\n", clock.Now().Add(-settle))
		in := &inbox.Inbox{Pattern: filepath.Join(dir, "*.csv"), Settle: settle, Now: clock.Now, SyncedLast: notSynced}
		if !next(t, in, path) {
			t.Error("not taken")
		}
	})
}

// settleClock is a clock that moves only when told, in the past: a file's
// modification time is what the test says.
func settleClock() *statetest.Clock {
	c := &statetest.Clock{}
	c.Set(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC))
	return c
}
