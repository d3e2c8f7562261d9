package state_test

import (
	"slices"
	"testing"
	"time"

	"erpsync/state"
)

// TestDB_LastUpdatedMilliseconds: the CRM's lastUpdated is kept to the
// millisecond, as the CRM answers it: in a record, its sighting, its read
// alone and the known customers; the window cuts and the known seconds
// stay whole seconds (the API filters on seconds).
func TestDB_LastUpdatedMilliseconds(t *testing.T) {
	db := MustOpenDB(t)
	at := time.Date(2024, 3, 1, 2, 0, 5, 123*int(time.Millisecond), time.UTC)
	o := upsert("MS-1", "h1", map[string]string{"name": "Ms"})
	o.CRMLastUpdated = at
	MustWrite(t, db, o)
	rec, err := db.Get(ctx, "MS-1")
	if err != nil || rec == nil {
		t.Fatalf("get: %v, %v", rec, err)
	}
	mustEqual(t, "record's CRMLastUpdated", rec.CRMLastUpdated, at)
	got, managed, err := db.CRMLastUpdated(ctx, "MS-1")
	if err != nil || !managed {
		t.Fatal(err)
	}
	mustEqual(t, "CRMLastUpdated", got, at)

	later := at.Add(250 * time.Millisecond) // the same second
	if err := db.SaveSeen(ctx, []state.Seen{{Reference: "MS-1", CRMID: 100, CRMLastUpdated: later, CRMValues: rec.Values}}); err != nil {
		t.Fatal(err)
	}
	if rec, _ = db.Get(ctx, "MS-1"); !rec.CRMLastUpdated.Equal(later) {
		t.Errorf("after a sighting in the same second: %v, want %v", rec.CRMLastUpdated, later)
	}
	if err := db.SaveCounted(ctx, state.Counted{Unmanaged: []state.Known{{Reference: "HAND", CRMID: 7, LastUpdated: at}}}); err != nil {
		t.Fatal(err)
	}
	second := at.Truncate(time.Second)
	known, err := db.KnownIn(ctx, second, second.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []state.Known{{Reference: "HAND", CRMID: 7, LastUpdated: at}, {Reference: "MS-1", CRMID: 100, LastUpdated: later, Managed: true}}
	if !slices.Equal(known, want) {
		t.Errorf("known = %+v, want %+v", known, want)
	}
	secs, err := db.KnownSeconds(ctx, time.Time{}, time.Time{})
	if err != nil || !slices.Equal(secs, []time.Time{second}) {
		t.Errorf("known seconds = %v, %v; want [%v]", secs, err, second)
	}
	if mid, err := db.MedianKnown(ctx, time.Time{}, time.Time{}); err != nil || !mid.Equal(second) {
		t.Errorf("median = %v, %v; want the second %v", mid, err, second)
	}
	if n, err := db.CountKnown(ctx, second, second.Add(time.Second)); err != nil || n != 2 {
		t.Errorf("count in the second = %d, %v; want 2", n, err)
	}
}

// TestDB_LastUpdatedMigratedToMilliseconds: a checkpoint written in whole
// seconds (before migration 007) reads the same times after it.
func TestDB_LastUpdatedMigratedToMilliseconds(t *testing.T) {
	db := MustOpenDB(t)
	at := time.Date(2024, 3, 1, 2, 0, 5, 0, time.UTC)
	o := upsert("OLD-1", "h1", map[string]string{"name": "Old"})
	o.CRMLastUpdated = at
	MustWrite(t, db, o)
	if err := db.SaveCounted(ctx, state.Counted{Unmanaged: []state.Known{{Reference: "HAND", CRMID: 7, LastUpdated: at}}}); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, db.Path)
	for _, q := range []string{
		`UPDATE records SET crm_last_updated = crm_last_updated / 1000`,
		`UPDATE unmanaged SET crm_last_updated = crm_last_updated / 1000`,
		`DELETE FROM migrations WHERE name LIKE '%007_last_updated_ms.sql'`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db = MustReopenDB(t, db)
	if rec, err := db.Get(ctx, "OLD-1"); err != nil || !rec.CRMLastUpdated.Equal(at) {
		t.Errorf("record after the migration: %+v, %v; want %v", rec, err, at)
	}
	known, err := db.KnownIn(ctx, time.Time{}, time.Time{})
	if err != nil || len(known) != 2 || !known[0].LastUpdated.Equal(at) || !known[1].LastUpdated.Equal(at) {
		t.Errorf("known after the migration: %+v, %v", known, err)
	}
}
