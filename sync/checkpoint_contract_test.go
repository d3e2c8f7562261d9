package sync_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/plan"
)

// contractCheckpoint is everything sync reads of a checkpoint.
type contractCheckpoint interface {
	plan.Checkpoint

	sync.RecordReader
	sync.LastUpdatedReader
	sync.ReconcileCheckpoint
}

// metaStore is the watermark and the mapping fingerprint, which the run
// keeps in the checkpoint (not read through sync's interfaces yet).
type metaStore interface {
	Watermark(ctx context.Context) (time.Time, error)
	SetWatermark(ctx context.Context, t time.Time) error
	Fingerprint(ctx context.Context) (string, error)
	SetFingerprint(ctx context.Context, fp string) error
}

// checkpointUnderTest is one implementation, new and empty.
type checkpointUnderTest struct {
	CP  contractCheckpoint
	Rec apply.Recorder
	// Flush makes what Rec took readable through CP.
	Flush func(ctx context.Context) error
	// Meta is nil when the implementation keeps no watermark.
	Meta metaStore
}

// TestCheckpointContract_StateDB runs the contract against the SQLite
// checkpoint and its writer.
func TestCheckpointContract_StateDB(t *testing.T) {
	testCheckpointContract(t, func(t *testing.T) checkpointUnderTest {
		db := state.NewDB(filepath.Join(t.TempDir(), "erpsync.db"))
		db.Now = newTestClock().Now
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		w := db.NewWriter(64, time.Hour)
		t.Cleanup(func() {
			if err := w.Close(); err != nil {
				t.Error(err)
			}
			db.Close()
		})
		return checkpointUnderTest{CP: db, Rec: w, Flush: w.Flush, Meta: db}
	})
}

// testCheckpointContract is what sync relies on from a checkpoint, as
// restic's backend suite is for its backends: every implementation (and
// any double of one) runs it.
func testCheckpointContract(t *testing.T, open func(t *testing.T) checkpointUnderTest) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, c checkpointUnderTest)
	}{
		{"empty", contractEmpty},
		{"an upsert is read back", contractUpsertReadBack},
		{"a failed outcome keeps the previous record", contractFailureKeepsRecord},
		{"a failure of a reference never pushed", contractFailureUnmanaged},
		{"a delete removes", contractDeleteRemoves},
		{"counts and hashes", contractCounts},
		{"outcomes of one reference apply in order", contractOrder},
		{"watermark and fingerprint round trip", contractMeta},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var contractLU = time.Date(2026, 3, 1, 2, 0, 7, 0, time.UTC)

func contractUpsert(ref, hash string) state.Outcome {
	return state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: ref, Line: 2, Hash: hash,
		Values: map[string]string{"name": "Name " + hash, "email": ref + "@example.com"},
		CRMID:  42, CRMLastUpdated: contractLU, CRMValues: map[string]string{"name": "Name " + hash}}
}

func contractFailure(ref, hash string) state.Outcome {
	o := contractUpsert(ref, hash)
	o.RunID = 2
	o.Failure = &state.Failure{Status: 400, Code: "invalid_request", Message: "creditLimit is not a number"}
	return o
}

func contractDelete(ref string) state.Outcome {
	return state.Outcome{RunID: 3, Op: state.OpDelete, Reference: ref, CRMID: 42, DeletedCopy: []byte(`{"id":42}`)}
}

// record puts outcomes and flushes them.
func record(t *testing.T, c checkpointUnderTest, outs ...state.Outcome) {
	t.Helper()
	ctx := context.Background()
	for _, o := range outs {
		if err := c.Rec.Put(ctx, o); err != nil {
			t.Fatalf("put %s of %s: %v", o.Op, o.Reference, err)
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// hashes returns what Hashes streams, as "ref=hash".
func hashes(t *testing.T, cp contractCheckpoint) []string {
	t.Helper()
	var out []string
	if err := cp.Hashes(context.Background(), func(ref, hash string) error {
		out = append(out, ref+"="+hash)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustGet(t *testing.T, cp contractCheckpoint, ref string) *state.Record {
	t.Helper()
	rec, err := cp.Get(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func mustCount(t *testing.T, cp contractCheckpoint) int {
	t.Helper()
	n, err := cp.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustFailures(t *testing.T, cp contractCheckpoint) []state.Failure {
	t.Helper()
	fs, err := cp.Failures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func lastUpdated(t *testing.T, cp contractCheckpoint, ref string) (time.Time, bool) {
	t.Helper()
	at, managed, err := cp.CRMLastUpdated(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return at, managed
}

func contractEmpty(t *testing.T, c checkpointUnderTest) {
	if n := mustCount(t, c.CP); n != 0 {
		t.Errorf("Count = %d", n)
	}
	if h := hashes(t, c.CP); len(h) != 0 {
		t.Errorf("Hashes = %v", h)
	}
	if rec := mustGet(t, c.CP, "A"); rec != nil {
		t.Errorf("Get = %+v", rec)
	}
	if _, managed := lastUpdated(t, c.CP, "A"); managed {
		t.Error("CRMLastUpdated: managed")
	}
	if fs := mustFailures(t, c.CP); len(fs) != 0 {
		t.Errorf("Failures = %+v", fs)
	}
}

func contractUpsertReadBack(t *testing.T, c checkpointUnderTest) {
	want := contractUpsert("A", "h1")
	record(t, c, want)
	rec := mustGet(t, c.CP, "A")
	if rec == nil {
		t.Fatal("Get = nil after an upsert")
	}
	if rec.Reference != "A" || rec.Hash != want.Hash || rec.CRMID != want.CRMID || !rec.CRMLastUpdated.Equal(want.CRMLastUpdated) {
		t.Errorf("Get = %+v, want %+v", rec, want)
	}
	if fmt.Sprint(rec.Values) != fmt.Sprint(want.Values) || fmt.Sprint(rec.CRMValues) != fmt.Sprint(want.CRMValues) {
		t.Errorf("values %v / CRM %v, want %v / %v", rec.Values, rec.CRMValues, want.Values, want.CRMValues)
	}
	if at, managed := lastUpdated(t, c.CP, "A"); !managed || !at.Equal(contractLU) {
		t.Errorf("CRMLastUpdated = %s, %v; want %s, managed", at, managed, contractLU)
	}
	if h := hashes(t, c.CP); !slices.Equal(h, []string{"A=h1"}) || mustCount(t, c.CP) != 1 {
		t.Errorf("Hashes = %v, Count = %d", h, mustCount(t, c.CP))
	}
}

func contractFailureKeepsRecord(t *testing.T, c checkpointUnderTest) {
	record(t, c, contractUpsert("A", "h1"), contractFailure("A", "h2"))
	if rec := mustGet(t, c.CP, "A"); rec == nil || rec.Hash != "h1" || rec.Values["name"] != "Name h1" {
		t.Errorf("after a failure: %+v, want the record of h1", rec)
	}
	fs := mustFailures(t, c.CP)
	if len(fs) != 1 || fs[0].Reference != "A" || fs[0].Status != 400 || fs[0].Code != "invalid_request" ||
		fs[0].RunID != 2 || fs[0].Op != state.OpUpsert || fs[0].Line != 2 {
		t.Fatalf("Failures = %+v", fs)
	}
	record(t, c, contractUpsert("A", "h3"))
	if rec := mustGet(t, c.CP, "A"); rec == nil || rec.Hash != "h3" {
		t.Errorf("after a success: %+v, want h3", rec)
	}
	if fs := mustFailures(t, c.CP); len(fs) != 0 {
		t.Errorf("a success left failures %+v", fs)
	}
}

func contractFailureUnmanaged(t *testing.T, c checkpointUnderTest) {
	record(t, c, contractFailure("N", "h1"))
	if rec := mustGet(t, c.CP, "N"); rec != nil || mustCount(t, c.CP) != 0 {
		t.Errorf("a failure made %+v managed", rec)
	}
	if _, managed := lastUpdated(t, c.CP, "N"); managed {
		t.Error("CRMLastUpdated: managed")
	}
	if fs := mustFailures(t, c.CP); len(fs) != 1 || fs[0].Reference != "N" {
		t.Errorf("Failures = %+v", fs)
	}
}

func contractDeleteRemoves(t *testing.T, c checkpointUnderTest) {
	record(t, c, contractUpsert("A", "h1"), contractUpsert("B", "h2"))
	del := contractDelete("A")
	del.Failure = &state.Failure{Status: 500, Message: "server error"}
	record(t, c, del) // a failed delete first: A stays
	if rec := mustGet(t, c.CP, "A"); rec == nil {
		t.Fatal("a failed delete removed A")
	}
	record(t, c, contractDelete("A"))
	if rec := mustGet(t, c.CP, "A"); rec != nil {
		t.Errorf("Get after delete = %+v", rec)
	}
	if _, managed := lastUpdated(t, c.CP, "A"); managed {
		t.Error("CRMLastUpdated: still managed after delete")
	}
	if h := hashes(t, c.CP); !slices.Equal(h, []string{"B=h2"}) || mustCount(t, c.CP) != 1 {
		t.Errorf("Hashes = %v, Count = %d; want B alone", h, mustCount(t, c.CP))
	}
	if fs := mustFailures(t, c.CP); len(fs) != 0 {
		t.Errorf("the delete left failures %+v", fs)
	}
}

func contractCounts(t *testing.T, c checkpointUnderTest) {
	const n = 250
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("R%03d", i)
	}
	var outs []state.Outcome
	for _, i := range rand.Perm(n) {
		outs = append(outs, contractUpsert(refs[i], "h"+refs[i]))
	}
	record(t, c, outs...)
	if got := mustCount(t, c.CP); got != n {
		t.Errorf("Count = %d, want %d", got, n)
	}
	h := hashes(t, c.CP)
	want := make([]string, n)
	for i, ref := range refs {
		want[i] = ref + "=h" + ref
	}
	if !slices.Equal(h, want) {
		t.Errorf("Hashes: %d pairs, not every reference once in byte order with its hash", len(h))
	}
	stop := errors.New("stop")
	calls := 0
	err := c.CP.Hashes(context.Background(), func(string, string) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Hashes with fn failing: %v after %d calls, want fn's error after 1", err, calls)
	}
}

func contractOrder(t *testing.T, c checkpointUnderTest) {
	record(t, c, contractUpsert("A", "h1"), contractUpsert("A", "h2"), contractDelete("A"), contractUpsert("A", "h3"))
	if rec := mustGet(t, c.CP, "A"); rec == nil || rec.Hash != "h3" {
		t.Errorf("Get = %+v, want the last outcome's h3", rec)
	}
}

func contractMeta(t *testing.T, c checkpointUnderTest) {
	if c.Meta == nil {
		t.Skip("no watermark in this implementation")
	}
	ctx := context.Background()
	if w, err := c.Meta.Watermark(ctx); err != nil || !w.IsZero() {
		t.Errorf("new watermark = %s, %v; want zero", w, err)
	}
	at := time.Date(2026, 3, 1, 3, 4, 5, 678_000_000, time.FixedZone("CET", 3600))
	if err := c.Meta.SetWatermark(ctx, at); err != nil {
		t.Fatal(err)
	}
	// Kept to the second, in UTC: the CRM's resolution.
	if w, err := c.Meta.Watermark(ctx); err != nil || !w.Equal(at.Truncate(time.Second)) || w.Location() != time.UTC {
		t.Errorf("watermark = %s, %v; want %s in UTC", w, err, at.Truncate(time.Second).UTC())
	}
	for _, fp := range []string{"", "fp-1", "fp-2"} {
		if fp != "" {
			if err := c.Meta.SetFingerprint(ctx, fp); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := c.Meta.Fingerprint(ctx); err != nil || got != fp {
			t.Errorf("fingerprint = %q, %v; want %q", got, err, fp)
		}
	}
}
