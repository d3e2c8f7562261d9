package sqlite_test

import (
	"testing"
	"time"
)

// TestDB_Watermark: the watermark survives a reopen of the file (the
// contract suite, statetest, checks the rest on every implementation).
func TestDB_Watermark(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	db := MustOpenDB(t)
	w, err := db.Watermark(ctx)
	if err != nil || !w.IsZero() {
		t.Fatalf("Watermark before any = %v, %v; want the zero time", w, err)
	}
	paris := time.FixedZone("CET", 3600)
	set := time.Date(2026, 3, 1, 3, 4, 5, 999_000_000, paris)
	if err := db.SetWatermark(ctx, set); err != nil {
		t.Fatal(err)
	}
	db = MustReopenDB(t, db)
	w, err = db.Watermark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The same instant, truncated to the second (the CRM's resolution), in UTC.
	want := time.Date(2026, 3, 1, 2, 4, 5, 0, time.UTC)
	if !w.Equal(want) || w.Location() != time.UTC {
		t.Errorf("Watermark = %v, want %v", w, want)
	}
	if err := db.SetWatermark(ctx, want.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if w, _ := db.Watermark(ctx); !w.Equal(want.Add(time.Hour)) {
		t.Errorf("Watermark after a second set = %v", w)
	}
}

func TestDB_Fingerprint(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	db := MustOpenDB(t)
	if fp, err := db.Fingerprint(ctx); err != nil || fp != "" {
		t.Fatalf("Fingerprint before any = %q, %v", fp, err)
	}
	for _, fp := range []string{"fp1", "fp2"} {
		if err := db.SetFingerprint(ctx, fp); err != nil {
			t.Fatal(err)
		}
		db = MustReopenDB(t, db)
		if got, err := db.Fingerprint(ctx); err != nil || got != fp {
			t.Errorf("Fingerprint = %q, %v; want %q", got, err, fp)
		}
	}
}
