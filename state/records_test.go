package state_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"erpsync/state"
)

func TestDB_Hashes(t *testing.T) {
	db := MustOpenDB(t)
	refs := []string{"b", "A", "a", "C-10", "C-2", "é"}
	var outs []state.Outcome
	for _, ref := range refs {
		outs = append(outs, upsert(ref, "h-"+ref, map[string]string{"name": ref}))
	}
	MustWrite(t, db, outs...)

	t.Run("every reference, in byte order", func(t *testing.T) {
		var got []string
		err := db.Hashes(ctx, func(ref, hash string) error {
			got = append(got, ref+"="+hash)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"A=h-A", "C-10=h-C-10", "C-2=h-C-2", "a=h-a", "b=h-b", "é=h-é"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
		if n := count(t, db); n != len(want) {
			t.Errorf("Count = %d, want %d", n, len(want))
		}
	})

	t.Run("an error of fn stops the stream and is returned as is", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := db.Hashes(ctx, func(string, string) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("err = %v after %d calls, want stop after 1", err, calls)
		}
	})

	t.Run("a cancelled context stops it", func(t *testing.T) {
		cctx, cancel := contextWithCancel()
		cancel()
		if err := db.Hashes(cctx, func(string, string) error { return nil }); err == nil {
			t.Error("Hashes with a cancelled context succeeded")
		}
	})
}

func TestDB_Records(t *testing.T) {
	db := MustOpenDB(t)
	MustWrite(t, db, upsert("b", "hb", map[string]string{"n": "2"}), upsert("a", "ha", map[string]string{"n": "1"}))
	var got []string
	err := db.Records(ctx, func(r state.Record) error {
		got = append(got, fmt.Sprintf("%s %s %v %d %v", r.Reference, r.Hash, r.Values, r.CRMID, r.PushedAt.Equal(fixedNow)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a ha map[n:1] 100 true", "b hb map[n:2] 100 true"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	stop := errors.New("stop")
	if err := db.Records(ctx, func(state.Record) error { return stop }); err != stop {
		t.Errorf("err = %v, want stop", err)
	}
}

func TestDB_Values(t *testing.T) {
	db := MustOpenDB(t)
	MustWrite(t, db, upsert("a", "ha", map[string]string{"n": "1", "city": "Lyon"}))
	got, err := db.Values(ctx, "a")
	if err != nil || fmt.Sprint(got) != "map[city:Lyon n:1]" {
		t.Errorf("Values(a) = %v, %v", got, err)
	}
	if got, err := db.Values(ctx, "nobody"); err != nil || got != nil {
		t.Errorf("Values(nobody) = %v, %v; want nil, nil", got, err)
	}
}

func TestDB_SaveSeen(t *testing.T) {
	pushed := fixedNow.Add(-time.Minute) // the CRM's lastUpdated after the push (see upsert)
	t.Run("updates what was seen of managed references only", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, upsert("MINE", "h", map[string]string{"name": "x"}))
		edited := pushed.Add(time.Hour)
		err := db.SaveSeen(ctx, []state.Seen{
			{Reference: "MINE", CRMID: 5, CRMLastUpdated: edited, CRMValues: map[string]string{"name": "edited"}},
			{Reference: "NOT-OURS", CRMID: 6, CRMLastUpdated: edited, CRMValues: map[string]string{"name": "theirs"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := db.Get(ctx, "MINE")
		if r.CRMID != 5 || !r.CRMLastUpdated.Equal(edited) || r.CRMValues["name"] != "edited" {
			t.Errorf("CRM side of MINE = %d %v %v", r.CRMID, r.CRMLastUpdated, r.CRMValues)
		}
		if r.Values["name"] != "x" || r.Hash != "h" || !r.PushedAt.Equal(fixedNow) {
			t.Errorf("pushed side of MINE changed: %+v", r)
		}
		if r, _ := db.Get(ctx, "NOT-OURS"); r != nil {
			t.Errorf("an unmanaged reference became managed: %+v", r)
		}
		mustEqual(t, "count", count(t, db), 1)
	})

	t.Run("an older copy does not replace a newer one", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, upsert("MINE", "h", map[string]string{"name": "x"}))
		if err := db.SaveSeen(ctx, []state.Seen{{Reference: "MINE", CRMID: 100, CRMLastUpdated: pushed.Add(-time.Hour),
			CRMValues: map[string]string{"name": "stale"}}}); err != nil {
			t.Fatal(err)
		}
		r, _ := db.Get(ctx, "MINE")
		if r.CRMValues["name"] != "x" || !r.CRMLastUpdated.Equal(pushed) {
			t.Errorf("a stale copy was saved: %v %v", r.CRMLastUpdated, r.CRMValues)
		}
	})

	t.Run("nothing to save", func(t *testing.T) {
		db := MustOpenDB(t)
		if err := db.SaveSeen(ctx, nil); err != nil {
			t.Error(err)
		}
	})
}

func TestDB_CRMLastUpdated(t *testing.T) {
	db := MustOpenDB(t)
	o := upsert("K1", "h1", map[string]string{"name": "One"})
	o.CRMLastUpdated = fixedNow.Add(-5 * time.Minute)
	MustWrite(t, db, o)
	at, managed, err := db.CRMLastUpdated(ctx, "K1")
	if err != nil || !managed || !at.Equal(fixedNow.Add(-5*time.Minute)) {
		t.Errorf("CRMLastUpdated(K1) = %s, %v, %v; want %s, managed", at, managed, err, fixedNow.Add(-5*time.Minute))
	}
	if _, managed, err := db.CRMLastUpdated(ctx, "nobody"); managed || err != nil {
		t.Errorf("CRMLastUpdated(nobody) = managed %v, %v", managed, err)
	}
}
