package inbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"erpsync/sync/inbox"
	"erpsync/sync/source"
)

// Review of the merges, point 3: the older settled files were archived
// as superseded before the newest was copied or run, so a newest export
// that turned out unusable (listed over source.max_bytes, a bad header)
// left nothing to sync: day1 in superseded/, day2 in rejected/. The
// older files are superseded only once the newest's run went through
// (or it is held by a guard); a newest rejected lets the next newest be
// taken: at once when it cannot be copied, at the next pass after a run
// that found it unusable.
func TestInbox_SupersedesOnlyAfterNewestWentThrough(t *testing.T) {
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	newInbox := func(t *testing.T, r remoteInbox) *inbox.Inbox {
		spool, err := source.NewSpool(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		spool.Wait = func(int) time.Duration { return 0 }
		return &inbox.Inbox{Store: r.store, Spool: spool, Now: func() time.Time { return at },
			SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
	}
	superseded := func(t *testing.T, r remoteInbox, want ...string) {
		t.Helper()
		if got := r.list(t, "archive/superseded"); !slices.Equal(got, want) {
			t.Errorf("superseded = %v, want %v", got, want)
		}
	}
	t.Run("newest with a bad header: rejected, the older one taken next", func(t *testing.T) {
		r := localInbox(t)
		in := newInbox(t, r)
		r.put(t, "day1.csv", "reference,name\nC1,One\n")
		r.put(t, "day2.csv", "no header at all\n")
		exp := mustNext(t, in, "day2.csv", "local")
		superseded(t, r)
		if _, err := in.Reject(exp.Path, errors.New("no header"), at); err != nil {
			t.Fatal(err)
		}
		superseded(t, r)
		exp = mustNext(t, in, "day1.csv", "local")
		if _, err := in.Archive(exp.Path, at); err != nil {
			t.Fatal(err)
		}
		if got := r.list(t, "archive"); !slices.Equal(got, []string{"day1.20260302T020000Z.csv"}) {
			t.Errorf("archive = %v, want day1 synced and archived", got)
		}
	})
	t.Run("newest over max_bytes: rejected, the older one taken at once", func(t *testing.T) {
		r, _ := sftpInboxWith(t, func(c *source.Settings) { c.MaxBytes = 100 })
		in := newInbox(t, r)
		r.put(t, "day1.csv", "reference,name\nC1,One\n")
		r.put(t, "day2.csv", "reference,name\n"+strings.Repeat("C1,Two\n", 50))
		exp, skipped, err := in.Next(context.Background())
		if err != nil || exp == nil || !strings.HasSuffix(exp.Source, "/inbox/day1.csv") {
			t.Fatalf("Next = %+v, %+v, %v; want day2 rejected and day1 taken", exp, skipped, err)
		}
		if len(skipped) != 1 || skipped[0].Rejected == nil || !strings.HasSuffix(skipped[0].Path, "/day2.csv") {
			t.Errorf("passed over %+v, want day2.csv rejected", skipped)
		}
		superseded(t, r)
		if got := r.list(t, "archive/rejected"); len(got) != 2 || !strings.HasPrefix(got[0], "day2.") {
			t.Errorf("rejected = %v, want day2's file and .error.txt", got)
		}
	})
	t.Run("newest synced: the older ones superseded then", func(t *testing.T) {
		r := localInbox(t)
		in := newInbox(t, r)
		r.put(t, "day1.csv", "reference,name\nC1,One\n")
		r.put(t, "day2.csv", "reference,name\nC1,Two\n")
		r.put(t, "day3.csv", "reference,name\nC1,Three\n")
		exp := mustNext(t, in, "day3.csv", "local")
		superseded(t, r)
		if got := r.list(t, "inbox"); len(got) != 3 {
			t.Errorf("inbox = %v, want every file still there while day3 runs", got)
		}
		if _, err := in.Archive(exp.Path, at); err != nil {
			t.Fatal(err)
		}
		superseded(t, r, "day1.20260302T020000Z.csv", "day2.20260302T020000Z.csv")
		if got := r.list(t, "inbox"); len(got) != 0 {
			t.Errorf("inbox = %v, want it empty", got)
		}
		exp, skipped, err := in.Next(context.Background())
		if exp != nil || err != nil {
			t.Errorf("Next = %+v, %+v, %v; want nothing left", exp, skipped, err)
		}
	})
	t.Run("newest's run failed: it is taken again, the older ones wait", func(t *testing.T) {
		r := localInbox(t)
		in := newInbox(t, r)
		r.put(t, "day1.csv", "reference,name\nC1,One\n")
		r.put(t, "day2.csv", "reference,name\nC1,Two\n")
		mustNext(t, in, "day2.csv", "local") // its run failed (CRM unreachable): no move
		mustNext(t, in, "day2.csv", "local")
		superseded(t, r)
	})
}

// Review of the late merges, finding 1: an older export whose move to
// superseded/ fails (a full disk, no right to make the folder) was
// forgotten, so the next pass took it as the newest file left and synced
// older data over the export that had just synced. It is passed over,
// its move tried again at each pass, and never taken; once the folder
// can be made, it goes to superseded/.
func TestInbox_SupersedeFailureNeverTakesTheOlder(t *testing.T) {
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	r := localInbox(t)
	spool, err := source.NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := &inbox.Inbox{Store: r.store, Spool: spool, Now: func() time.Time { return at },
		SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
	r.put(t, "day1.csv", "reference,name\nC1,One\n")
	r.put(t, "day2.csv", "reference,name\nC1,Two\n")
	arch := r.store.ArchiveDir()
	if err := os.MkdirAll(arch, 0o755); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(arch, "superseded")
	if err := os.WriteFile(blocker, []byte("a file where the folder goes"), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := mustNext(t, in, "day2.csv", "local")
	if _, err := in.Archive(exp.Path, at); err != nil {
		t.Fatal(err)
	}
	for pass := 1; pass <= 2; pass++ {
		got, _, err := in.Next(context.Background())
		if got != nil {
			t.Fatalf("pass %d: the older day1 is taken (%s): it would sync older data over day2", pass, got.Source)
		}
		if err != nil {
			t.Logf("pass %d: %v", pass, err)
		}
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := in.Next(context.Background()); got != nil {
		t.Fatalf("the older day1 is taken once the folder can be made: %s", got.Source)
	}
	if names, _ := filepath.Glob(filepath.Join(arch, "superseded", "*day1*")); len(names) != 1 {
		t.Errorf("superseded/ holds %v, want day1 moved there", names)
	}
}
