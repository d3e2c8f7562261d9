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

// Without an archive folder a held export stays where it is: it is
// passed over while its content stays the same, and a newer export is
// taken. Released, it is taken again.
func TestInbox_HeldInPlace(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	put := func(name, content string, mod time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(p, mod, mod)
		return p
	}
	ledger := &inbox.Ledger{Path: filepath.Join(t.TempDir(), "erpsync.db.serve.json")}
	in := &inbox.Inbox{Pattern: filepath.Join(dir, "*.csv"), Now: func() time.Time { return at }, Ledger: ledger,
		SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
	day2 := put("day2.csv", "reference,name\nC1,Two\n", at.Add(-time.Hour))
	exp, _, err := in.Next(context.Background())
	if err != nil || exp == nil || exp.Path != day2 {
		t.Fatalf("took %+v, %v; want day2.csv", exp, err)
	}
	if where, err := in.Hold(exp, errors.New("max_delete: too many"), at); err != nil || where != day2 {
		t.Fatalf("held at %s, %v; want in place", where, err)
	}
	exp, skipped, err := in.Next(context.Background())
	if err != nil || exp != nil || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "held since") {
		t.Fatalf("after the hold: %+v, %+v, %v; want day2.csv passed over as held", exp, skipped, err)
	}
	day3 := put("day3.csv", "reference,name\nC1,Three\n", at.Add(-time.Minute))
	if exp, _, err := in.Next(context.Background()); err != nil || exp == nil || exp.Path != day3 {
		t.Fatalf("took %+v, %v; want the newer day3.csv", exp, err)
	}
	os.Remove(day3)
	if released, err := ledger.Release(nil); err != nil || len(released) != 1 {
		t.Fatalf("released %+v, %v", released, err)
	}
	if exp, _, err := in.Next(context.Background()); err != nil || exp == nil || exp.Path != day2 {
		t.Fatalf("took %+v, %v; want day2.csv again once released", exp, err)
	}
}

// Review of the merges, point 13: Hold moved the export to held/ and
// wrote its .held.txt before the ledger knew of it; in between /healthz
// (which reads the ledger) answered 200, and a ledger that cannot be
// written left a file in held/ that nothing names. The ledger is written
// first: when it cannot be, nothing is moved; once the file is in held/,
// the ledger names it there; a file rewritten since it was taken (not
// held) leaves no record behind.
func TestInbox_HoldRecordsBeforeMove(t *testing.T) {
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	setup := func(t *testing.T, ledgerPath string) (remoteInbox, *inbox.Inbox, *inbox.Export) {
		t.Helper()
		r := localInbox(t)
		in := &inbox.Inbox{Store: r.store, Now: func() time.Time { return at }, Ledger: &inbox.Ledger{Path: ledgerPath},
			SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
		r.put(t, "day2.csv", "reference,name\nC1,Two\n")
		return r, in, mustNext(t, in, "day2.csv", "local")
	}
	t.Run("ledger cannot be written: nothing moved", func(t *testing.T) {
		ledger := filepath.Join(t.TempDir(), "erpsync.db.serve.json")
		if err := os.Mkdir(ledger+".lock", 0o755); err != nil { // read, but never updated
			t.Fatal(err)
		}
		r, in, exp := setup(t, ledger)
		if _, err := in.Hold(exp, errors.New("max_delete: too many"), at); err == nil {
			t.Fatal("Hold with a ledger that cannot be written: no error")
		}
		if got := r.list(t, "archive/held"); len(got) != 0 {
			t.Errorf("held/ = %v, want nothing moved while the ledger does not know of it", got)
		}
		if got := r.list(t, "inbox"); !slices.Equal(got, []string{"day2.csv"}) {
			t.Errorf("inbox = %v, want day2.csv left there", got)
		}
	})
	t.Run("held: the ledger names where it is", func(t *testing.T) {
		ledger := filepath.Join(t.TempDir(), "erpsync.db.serve.json")
		r, in, exp := setup(t, ledger)
		dest, err := in.Hold(exp, errors.New("max_delete: too many"), at)
		if err != nil {
			t.Fatal(err)
		}
		held, err := in.Ledger.Held()
		if err != nil || len(held) != 1 || held[0].MovedTo != dest || !strings.HasSuffix(dest, "/held/day2.20260302T020000Z.csv") {
			t.Fatalf("ledger = %+v, %v; want day2 held at %s", held, err, dest)
		}
		if got := r.list(t, "archive/held"); len(got) != 2 {
			t.Errorf("held/ = %v, want day2 and its .held.txt", got)
		}
	})
	t.Run("changed since taken: no record left", func(t *testing.T) {
		ledger := filepath.Join(t.TempDir(), "erpsync.db.serve.json")
		r, in, exp := setup(t, ledger)
		r.put(t, "day2.csv", "reference,name\nC1,Two\nC2,Three\n")
		if _, err := in.Hold(exp, errors.New("max_delete: too many"), at); !errors.Is(err, source.ErrChanged) {
			t.Fatalf("Hold of a file rewritten since it was taken: %v, want source.ErrChanged", err)
		}
		if held, err := in.Ledger.Held(); err != nil || len(held) != 0 {
			t.Errorf("ledger = %+v, %v; want nothing held", held, err)
		}
	})
}

// Review, point C: a held export whose move to held/ failed stays in the
// inbox, held in place. A newer export held later supersedes it into
// superseded/; its ledger record must not keep saying it is in the
// inbox (status, /healthz and release read the ledger).
func TestInbox_HeldInPlaceSuperseded(t *testing.T) {
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	r := localInbox(t)
	ledger := &inbox.Ledger{Path: filepath.Join(t.TempDir(), "erpsync.db.serve.json")}
	in := &inbox.Inbox{Store: r.store, Now: func() time.Time { return at }, Ledger: ledger,
		SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
	r.put(t, "day2.csv", "reference,name\nC1,Two\n")
	exp := mustNext(t, in, "day2.csv", "local")
	archive := filepath.Join(filepath.Dir(filepath.Dir(exp.Source)), "archive")
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	heldDir := filepath.Join(archive, "held")
	if err := os.WriteFile(heldDir, nil, 0o644); err != nil { // held/ cannot be made: day2 stays in place
		t.Fatal(err)
	}
	if where, err := in.Hold(exp, errors.New("max_delete: too many"), at); err == nil || where == "" {
		t.Fatalf("Hold with no held/ folder: %s, %v; want held in place, with the move's error", where, err)
	}
	if err := os.Remove(heldDir); err != nil {
		t.Fatal(err)
	}
	r.put(t, "day3.csv", "reference,name\nC1,Three\n")
	exp3 := mustNext(t, in, "day3.csv", "local")
	if _, err := in.Hold(exp3, errors.New("max_delete: too many"), at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := r.list(t, "archive/superseded"); len(got) != 1 || !strings.HasPrefix(got[0], "day2.") {
		t.Fatalf("superseded/ = %v, want day2", got)
	}
	held, err := ledger.Held()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range held {
		if h.MovedTo == "" {
			t.Errorf("ledger holds %s in the inbox (MovedTo empty), but it is in superseded/", h.Source)
		}
	}
}
