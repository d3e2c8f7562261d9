package sqlite_test

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/compact"
	"erpsync/state/sqlite"
)

// TestCheckpointCompact: a managed customer takes at most 400 bytes of
// the file (issue 25 §4; ~940 with two JSON maps a record), for typical
// values whose CRM copy is what was pushed.
func TestCheckpointCompact(t *testing.T) {
	db := MustOpenDB(t)
	const n = 20_000
	w := db.NewWriter(5000, time.Hour)
	for i := range n {
		v := customerValues(i)
		o := state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: fmt.Sprintf("C-%07d", i), Hash: hashOf(i),
			RowSum: uint64(i) * 0x9e3779b97f4a7c15, Values: v, CRMID: int64(i + 1), CRMLastUpdated: fixedNow, CRMValues: v}
		if err := w.Put(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if per := bytesPerRecord(t, db.Path, n); per > 400 {
		t.Errorf("%.0f bytes a managed customer, want ≤ 400", per)
	} else {
		t.Logf("%.0f bytes a managed customer", per)
	}
}

// roundTrip are records whose every value drift, reconcile and the audit
// copies read must come back: the CRM's copy the same as what was pushed,
// differing, lacking a field, with a field more, empty, none; odd text.
func roundTrip() []state.Outcome {
	base := map[string]string{"reference": "R1", "name": "Golden Gems", "city": "München", "email": "a&b@example.com", "zip": "75001"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := maps.Clone(m)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
	long := strings.Repeat("x", 300)
	cases := []struct{ vals, crm map[string]string }{
		{base, base},
		{base, with(base, "city", "Munich")},
		{base, with(base, "email", "-")},
		{base, with(base, "email", "-", "phone", "+33 1", "zip", "")},
		{with(base, "name", "Other \"quoted\" \\ <&> \u2028\t"), with(base, "name", "Other")},
		{with(base, "zip", ""), with(base, "zip", "-")},
		{base, nil},
		{nil, base},
		{nil, nil},
		{map[string]string{"": "empty key", "notes": long}, map[string]string{"": "other", "notes": long + "y"}},
		{map[string]string{"name": "日本語", "zip": "0"}, map[string]string{"name": "日本語", "zip": "0", "country": "JP"}},
	}
	var out []state.Outcome
	for i, c := range cases {
		out = append(out, state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: fmt.Sprintf("R%02d", i), Hash: hashOf(i + 1),
			RowSum: uint64(i), Values: c.vals, CRMID: int64(i + 1), CRMLastUpdated: fixedNow.Add(time.Duration(i) * time.Millisecond),
			CRMValues: c.crm})
	}
	// Hashes that are not a sha256 in hex are kept as they are.
	out[0].Hash, out[1].Hash = "h1", strings.ToUpper(hashOf(9))
	return out
}

// orEmpty is a stored map: never nil.
func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// checkRecords says whether db holds exactly the records of outs: every
// one listed by Records, and read alone by Get and Values (those of the
// generated customers C-…, alike but for their numbers, one in pointEvery).
func checkRecords(t *testing.T, db *sqlite.DB, outs []state.Outcome) {
	t.Helper()
	var got []state.Record
	if err := db.Records(ctx, func(r state.Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(outs) {
		t.Fatalf("%d records, want %d", len(got), len(outs))
	}
	for i, o := range outs {
		want := state.Record{Reference: o.Reference, Hash: o.Hash, Values: orEmpty(o.Values), CRMID: o.CRMID,
			CRMLastUpdated: o.CRMLastUpdated, CRMValues: orEmpty(o.CRMValues), PushedAt: fixedNow}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("record %d = %+v\nwant %+v", i, got[i], want)
		}
		if i%pointEvery != 0 && strings.HasPrefix(o.Reference, "C-") {
			continue
		}
		if r, err := db.Get(ctx, o.Reference); err != nil || r == nil || !reflect.DeepEqual(*r, want) {
			t.Errorf("Get(%s) = %+v, %v", o.Reference, r, err)
		}
		if v, err := db.Values(ctx, o.Reference); err != nil || !reflect.DeepEqual(v, want.Values) {
			t.Errorf("Values(%s) = %v, %v", o.Reference, v, err)
		}
	}
	i := 0
	err := db.HashSumsBetween(ctx, "", "", func(ref, hash string, sum uint64) error {
		if o := outs[i]; ref != o.Reference || hash != o.Hash || sum != o.RowSum {
			t.Errorf("hash %d: %s %s %d, want %s %s %d", i, ref, hash, sum, o.Reference, o.Hash, o.RowSum)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pointEvery: checkRecords reads one generated customer in pointEvery
// alone; a Get and a Values a record were half of the migration tests'
// CPU.
const pointEvery = 10

// TestCompactRoundTrip: every value pushed and every value of the CRM's
// copy comes back, through the writer, SaveSeen and SaveHashes, and from
// another process (the field names read from the file).
func TestCompactRoundTrip(t *testing.T) {
	db := MustOpenDB(t)
	outs := roundTrip()
	MustWrite(t, db, outs...)
	checkRecords(t, db, outs)

	// A refresh's copies: the CRM's values change, the pushed ones stay.
	seen := []state.Seen{
		{Reference: outs[0].Reference, CRMID: 7, CRMLastUpdated: fixedNow.Add(time.Hour), CRMValues: map[string]string{"name": "Hand edit", "newField": "n"}},
		{Reference: outs[2].Reference, CRMID: 8, CRMLastUpdated: fixedNow.Add(time.Hour), CRMValues: outs[2].Values},
		{Reference: "unmanaged", CRMID: 9, CRMLastUpdated: fixedNow, CRMValues: map[string]string{"x": "y"}},
	}
	if err := db.SaveSeen(ctx, seen); err != nil {
		t.Fatal(err)
	}
	for _, s := range seen[:2] {
		o := outsByRef(outs, s.Reference)
		o.CRMID, o.CRMLastUpdated, o.CRMValues = s.CRMID, s.CRMLastUpdated, s.CRMValues
	}
	checkRecords(t, db, outs)

	// A mapping change: new values, or fields no longer mapped; the
	// CRM's copy stays what it was.
	o3, o4 := outsByRef(outs, "R03"), outsByRef(outs, "R04")
	rs := []state.Rehash{
		{Reference: o3.Reference, Hash: hashOf(40), Sum: 40, Values: map[string]string{"name": "Renamed"}},
		{Reference: o4.Reference, Hash: hashOf(41), Sum: 41, Keep: map[string]bool{"name": true, "zip": true}},
	}
	if err := db.SaveHashes(ctx, rs); err != nil {
		t.Fatal(err)
	}
	o3.Hash, o3.RowSum, o3.Values = hashOf(40), 40, map[string]string{"name": "Renamed"}
	o4.Hash, o4.RowSum = hashOf(41), 41
	o4.Values = map[string]string{"name": o4.Values["name"], "zip": o4.Values["zip"]}
	checkRecords(t, db, outs)
	checkRecords(t, MustReopenDB(t, db), outs)
}

func outsByRef(outs []state.Outcome, ref string) *state.Outcome {
	for i := range outs {
		if outs[i].Reference == ref {
			return &outs[i]
		}
	}
	return nil
}

// TestCompactInvalidUTF8: bytes that are not UTF-8 read back as U+FFFD,
// one a byte, as they did from JSON.
func TestCompactInvalidUTF8(t *testing.T) {
	db := MustOpenDB(t)
	o := upsert("A", "h", map[string]string{"name": "bad \xff\xfe byte"})
	o.CRMValues = map[string]string{"name": "bad \xff\xfe byte", "city": "\xc3"}
	MustWrite(t, db, o)
	r, err := db.Get(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": "bad \ufffd\ufffd byte"}
	wantCRM := map[string]string{"name": "bad \ufffd\ufffd byte", "city": "\ufffd"}
	if !reflect.DeepEqual(r.Values, want) || !reflect.DeepEqual(r.CRMValues, wantCRM) {
		t.Errorf("A = %q, %q; want %q, %q", r.Values, r.CRMValues, want, wantCRM)
	}
}

// legacyCheckpoint writes at path a checkpoint as erpsync wrote it before
// migration 008 (values as JSON, json.Marshal's bytes), holding outs.
func legacyCheckpoint(tb testing.TB, path string, outs func(yield func(state.Outcome) bool)) {
	tb.Helper()
	if err := sqlite.WriteLegacy008(ctx, path, fixedNow, outs); err != nil {
		tb.Fatal(err)
	}
}

// TestMigration008Resumable: migration 008 converts a checkpoint of JSON
// values; the compact records are written into a file beside it, then
// copied over it in one transaction. Stopped (as a kill would) after two
// batches, once the new file is complete, and once it is copied over,
// the old checkpoint is usable as it was until the last step, and the
// next Open goes on from there: every value comes back.
func TestMigration008Resumable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	errKilled := fmt.Errorf("killed")
	stops := 0
	kill, killAt := 200, "" // after two batches; then at each step
	restore := sqlite.SetCopyHook(100, func(copied int) error {
		if copied == kill {
			stops++
			kill = -1
			return errKilled
		}
		return nil
	})
	defer restore()
	defer sqlite.SetStepHook(func(step string) error {
		if step == killAt {
			stops++
			killAt = ""
			return errKilled
		}
		return nil
	})()
	open := func() error {
		db := sqlite.NewDB(path)
		db.Now = func() time.Time { return fixedNow }
		return db.Open(ctx)
	}
	if err := open(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Open stopped by the hook: %v", err)
	}
	next := path + "-migrate008"
	if n := countRows(t, next, "records_v8"); n != 200 {
		t.Fatalf("copied into %s before the stop: %d, want 200", next, n)
	}
	checkLegacy(t, path, len(outs))
	for _, step := range []string{"complete", "installed"} {
		killAt = step
		if err := open(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("Open stopped by the hook at %s: %v", step, err)
		}
		if step == "complete" {
			checkLegacy(t, path, len(outs))
		}
	}
	db := sqlite.NewDB(path)
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if stops != 3 {
		t.Errorf("the hooks stopped %d times, want 3", stops)
	}
	checkMigrated(t, db, outs)
	if _, err := os.Stat(next); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left after the migration: %v", next, err)
	}
}

// TestMigration008TwoAtOnce: two processes opening an old checkpoint
// together both open it, and it is migrated once, every value kept. (Run
// many times on a loaded machine, their copies into one new file used to
// wait for each other's locks for 10 minutes, and one's cleanup removed
// the other's new file under it: compact.Lock.)
func TestMigration008TwoAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	defer sqlite.SetCopyHook(100, nil)()
	var wg gosync.WaitGroup
	dbs := make([]*sqlite.DB, 2)
	errs := make([]error, 2)
	for i := range dbs {
		wg.Go(func() {
			dbs[i] = sqlite.NewDB(path)
			dbs[i].Now = func() time.Time { return fixedNow }
			errs[i] = dbs[i].Open(ctx)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	checkMigrated(t, dbs[0], outs)
	checkMigrated(t, dbs[1], outs)
	if _, err := os.Lstat(compact.Lock(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left after the migration: %v", compact.Lock(path), err)
	}
}

// legacyOutcomes are the records of an old checkpoint: 400 customers
// (four of the tests' batches of 100: a copy stops after two, splits at
// half), a seventh with a CRM copy that differs, and the round trip's
// cases.
func legacyOutcomes() []state.Outcome {
	var outs []state.Outcome
	for i := range 400 {
		v := customerValues(i)
		crm := v
		if i%7 == 0 {
			crm = maps.Clone(v)
			crm["city"] = "Hand edit"
			delete(crm, "phone")
		}
		outs = append(outs, state.Outcome{Reference: fmt.Sprintf("C-%07d", i), Hash: hashOf(i), RowSum: uint64(i),
			Values: v, CRMID: int64(i + 1), CRMLastUpdated: fixedNow.Add(time.Duration(i) * time.Millisecond), CRMValues: crm})
	}
	return append(outs, roundTrip()...)
}

// countRows counts the rows of a table of the SQLite file at path.
func countRows(t *testing.T, path, table string) int {
	t.Helper()
	var n int
	if err := rawDB(t, path).QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("count %s in %s: %v", table, path, err)
	}
	return n
}

// checkLegacy says whether the checkpoint at path is still as an older
// erpsync wrote it, and usable by it: n records of JSON values, no copy
// of them beside, no migration 008.
func checkLegacy(t *testing.T, path string, n int) {
	t.Helper()
	var text, v8 int
	if err := rawDB(t, path).QueryRowContext(ctx, `SELECT (SELECT count(*) FROM records WHERE typeof(vals) = 'text'),
		(SELECT count(*) FROM sqlite_schema WHERE name IN ('records_v8', 'fields'))`).Scan(&text, &v8); err != nil || text != n || v8 != 0 {
		t.Errorf("the old checkpoint: %d records of JSON values (want %d), %d tables of 008 (want 0), %v", text, n, v8, err)
	}
	old := sqlite.NewDB(path)
	sqlite.SetStopBefore(old, "migrations/008")
	if err := old.Open(ctx); err != nil {
		t.Errorf("an older erpsync opens it: %v", err)
	}
	old.Close()
}

// checkMigrated says whether db is migrated, holds the records of outs,
// and took no more pages than a new checkpoint.
func checkMigrated(t *testing.T, db *sqlite.DB, outs []state.Outcome) {
	t.Helper()
	sorted := slices.Clone(outs)
	slices.SortFunc(sorted, func(a, b state.Outcome) int { return strings.Compare(a.Reference, b.Reference) })
	checkRecords(t, db, sorted)
	var left int
	if err := rawDB(t, db.Path).QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'records_v8'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("records_v8 left: %d, %v", left, err)
	}
	if err := db.Verify(ctx); err != nil {
		t.Error(err)
	}
	// A new checkpoint's free pages: the history_at index's, dropped by
	// migration 010.
	var free, fresh int
	if err := rawDB(t, MustOpenDB(t).Path).QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&fresh); err != nil || fresh > 1 {
		t.Errorf("%d free pages in a new checkpoint (%v)", fresh, err)
	}
	if err := rawDB(t, db.Path).QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil || free != fresh {
		t.Errorf("%d free pages after the migration (%v), a new checkpoint %d: the file kept the old pages", free, err, fresh)
	}
}

// TestMigration008SmallPages: a checkpoint of SQLite's 4 KiB pages (as
// erpsync created them before 16 KiB) is migrated, and keeps its pages:
// the new file is copied over it page for page.
func TestMigration008SmallPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw := rawDB(t, path)
	if _, err := raw.ExecContext(ctx, `PRAGMA page_size = 4096; CREATE TABLE x (a); DROP TABLE x`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	outs := legacyOutcomes()
	legacyCheckpoint(t, path, slices.Values(outs))
	defer sqlite.SetCopyHook(100, nil)()
	db := sqlite.NewDB(path)
	db.Now = func() time.Time { return fixedNow }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sorted := slices.Clone(outs)
	slices.SortFunc(sorted, func(a, b state.Outcome) int { return strings.Compare(a.Reference, b.Reference) })
	checkRecords(t, db, sorted)
	var size int
	if err := rawDB(t, path).QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil || size != 4096 {
		t.Errorf("page size %d (%v), want 4096", size, err)
	}
}
