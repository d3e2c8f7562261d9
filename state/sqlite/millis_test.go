package sqlite_test

import (
	"testing"
	"time"

	"erpsync/state"
)

// TestDB_LastUpdatedMigratedToMilliseconds: a checkpoint written in whole
// seconds (before migration 007) reads the same times after it.
func TestDB_LastUpdatedMigratedToMilliseconds(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
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
