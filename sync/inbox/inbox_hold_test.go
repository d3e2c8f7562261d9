package inbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/inbox"
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
