package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/state/sqlite"
)

// TestMem_SameAsDB applies one random sequence of writes to the SQLite
// checkpoint and to the in-memory one, on one clock, and compares after
// each step everything both answer: the contract suite's cases, and the
// many more that chance finds (times to the millisecond in shared
// seconds, references that come, go, are failed, seen, counted, found
// gone or rehashed). 60 steps a seed: 11 breaks of memstate tried
// (windows' bounds, cuts, seconds, counts' Gone and Forget, SaveSeen,
// SaveRowSums, a delete's crm id, failures, run errors) each failed a
// seed by step 45, as with 150.
func TestMem_SameAsDB(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			d := newDiff(t, seed)
			for step := range 60 {
				what := d.step()
				d.compare(fmt.Sprintf("step %d (%s)", step, what))
				if t.Failed() {
					return
				}
			}
		})
	}
}

// diff is the two checkpoints, their clock and the chance that drives them.
type diff struct {
	t     *testing.T
	rnd   *rand.Rand
	now   time.Time
	db    *sqlite.DB
	mem   *memstate.Mem
	runID int64
}

var base = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

func newDiff(t *testing.T, seed uint64) *diff {
	d := &diff{t: t, rnd: rand.New(rand.NewPCG(seed, 22)), now: base}
	d.db = mustOpenAt(t, newFile(t), func() time.Time { return d.now })
	d.mem = memstate.New()
	d.mem.Now = func() time.Time { return d.now }
	return d
}

// both applies a write to both checkpoints; they must agree on its error.
func (d *diff) both(what string, fn func(cp state.Checkpoint) error) string {
	d.t.Helper()
	e1, e2 := fn(d.db), fn(d.mem)
	if (e1 == nil) != (e2 == nil) {
		d.t.Fatalf("%s: SQLite %v, memory %v", what, e1, e2)
	}
	return what
}

func (d *diff) ref() string { return fmt.Sprint("R", d.rnd.IntN(12)) }

// at is a CRM time: a few seconds, with milliseconds, often shared.
func (d *diff) at() time.Time {
	return base.Add(time.Duration(d.rnd.IntN(6))*time.Second + time.Duration(d.rnd.IntN(3)*250)*time.Millisecond)
}

func (d *diff) vals() map[string]string {
	if d.rnd.IntN(4) == 0 {
		return nil
	}
	return map[string]string{"name": fmt.Sprint("n", d.rnd.IntN(3)), "city": "Lyon"}
}

// outcome is a random outcome.
func (d *diff) outcome() state.Outcome {
	o := state.Outcome{RunID: d.runID, Op: state.OpUpsert, Reference: d.ref(), Line: d.rnd.IntN(9),
		Hash: fmt.Sprint("h", d.rnd.IntN(3)), RowSum: uint64(d.rnd.IntN(3)), Values: d.vals(),
		CRMID: int64(d.rnd.IntN(20)), CRMLastUpdated: d.at(), CRMValues: d.vals()}
	switch d.rnd.IntN(5) {
	case 0:
		o.Op = state.OpDelete
		if d.rnd.IntN(2) == 0 {
			o.DeletedCopy = []byte(fmt.Sprintf(`{"id":%d}`, o.CRMID))
		}
	case 1:
		o.Failure = &state.Failure{Status: 400, Code: "x", Message: "refused"}
	}
	return o
}

// step makes one random write to both, and moves the clock.
func (d *diff) step() string {
	d.now = d.now.Add(time.Duration(d.rnd.IntN(1500)) * time.Millisecond)
	switch d.rnd.IntN(8) {
	case 0, 1, 2:
		outs := make([]state.Outcome, 1+d.rnd.IntN(6))
		for i := range outs {
			outs[i] = d.outcome()
		}
		return d.both("outcomes", func(cp state.Checkpoint) error {
			w := cp.NewWriter(4, time.Hour)
			for _, o := range outs {
				if err := w.Put(ctx, o); err != nil {
					return err
				}
			}
			return w.Close()
		})
	case 3:
		seen := []state.Seen{{Reference: d.ref(), CRMID: int64(d.rnd.IntN(20)), CRMLastUpdated: d.at(), CRMValues: d.vals()}}
		return d.both("seen", func(cp state.Checkpoint) error { return cp.SaveSeen(ctx, seen) })
	case 4:
		c := d.counted()
		return d.both("counted", func(cp state.Checkpoint) error { return cp.SaveCounted(ctx, c) })
	case 5:
		sums := []state.RowSum{{Reference: d.ref(), Hash: fmt.Sprint("h", d.rnd.IntN(3)), Sum: d.rnd.Uint64()}}
		rs := []state.Rehash{{Reference: d.ref(), Hash: "re", Sum: 9, Values: d.vals()}}
		return d.both("sums and rehashes", func(cp state.Checkpoint) error {
			return cmpErr(cp.SaveRowSums(ctx, sums), cp.SaveHashes(ctx, rs))
		})
	case 6:
		return d.runStep()
	default:
		at := d.at()
		return d.both("marks", func(cp state.Checkpoint) error {
			return cmpErr(cp.SetWatermark(ctx, at), cp.SetVerifiedUntil(ctx, at.Add(-time.Hour)))
		})
	}
}

// counted is a random count's finding.
func (d *diff) counted() state.Counted {
	c := state.Counted{At: d.now}
	for range d.rnd.IntN(3) {
		ref := d.ref()
		if d.rnd.IntN(3) == 0 {
			ref = ""
		}
		c.Unmanaged = append(c.Unmanaged, state.Known{Reference: ref, CRMID: int64(100 + d.rnd.IntN(8)), LastUpdated: d.at()})
	}
	for range d.rnd.IntN(2) {
		c.Forget = append(c.Forget, int64(100+d.rnd.IntN(8)))
	}
	for range d.rnd.IntN(3) {
		c.Gone = append(c.Gone, state.Known{Reference: d.ref(), LastUpdated: d.at()})
	}
	return c
}

// runStep starts a run, or ends the last one.
func (d *diff) runStep() string {
	if d.runID == 0 || d.rnd.IntN(2) == 0 {
		var ids [2]int64
		i := 0
		file := fmt.Sprint("f", d.rnd.IntN(2))
		d.both("start run", func(cp state.Checkpoint) error {
			var err error
			ids[i], err = cp.StartRun(ctx, "run", file, "")
			i++
			return err
		})
		if ids[0] != ids[1] {
			d.t.Fatalf("run ids %d and %d", ids[0], ids[1])
		}
		d.runID = ids[0]
		return "start run"
	}
	status := []string{state.StatusDone, state.StatusFailed, state.StatusDoneFailures}[d.rnd.IntN(3)]
	sha := fmt.Sprint("s", d.rnd.IntN(2))
	errText := strings.Repeat("é", d.rnd.IntN(2)*2000) // now and then over MaxRunError
	return d.both("finish run", func(cp state.Checkpoint) error {
		return cmpErr(cp.NoteRunSHA(ctx, d.runID, sha), cp.FinishRun(ctx, d.runID, status, map[string]int{"n": 1}, errText))
	})
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// compare fails the test where the two answer differently.
func (d *diff) compare(when string) {
	d.t.Helper()
	a, b := readAll(d.t, d.db), readAll(d.t, d.mem)
	for k, v := range a {
		if !reflect.DeepEqual(v, b[k]) {
			d.t.Errorf("%s: %s\nSQLite %+v\nmemory %+v", when, k, v, b[k])
		}
	}
}

// readAll reads everything a checkpoint answers, by name.
func readAll(t *testing.T, cp state.Checkpoint) map[string]any {
	t.Helper()
	out := map[string]any{}
	get := func(name string, v any, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
	var recs []state.Record
	get("Records", recs, cp.Records(ctx, func(r state.Record) error { recs = append(recs, r); return nil }))
	out["Records"] = recs
	var sums []string
	get("HashSums", nil, cp.HashSumsBetween(ctx, "R3", "R7", func(ref, hash string, sum uint64) error {
		sums = append(sums, fmt.Sprint(ref, hash, sum))
		return nil
	}))
	out["HashSums"] = sums
	fs, err := cp.Failures(ctx)
	get("Failures", fs, err)
	runs, err := cp.Runs(ctx, 0)
	get("Runs", runs, err)
	for _, w := range [][2]time.Time{{}, {base.Add(time.Second), base.Add(4 * time.Second)}, {base.Add(2500 * time.Millisecond), {}}} {
		readWindow(t, cp, w[0], w[1], out)
	}
	var refs []string
	for i := range 12 {
		refs = append(refs, fmt.Sprint("R", i))
	}
	many, err := cp.KnownByReferences(ctx, append(refs, ""))
	get("KnownByReferences", many, err)
	gone, err := cp.DeletedByHand(ctx)
	get("DeletedByHand", gone, err)
	readMarks(t, cp, out)
	in := cp.(state.Inspector)
	n, err := in.UnmanagedCount(ctx)
	get("UnmanagedCount", n, err)
	for _, ref := range refs {
		copies, err := in.DeletedCopies(ctx, ref)
		get("DeletedCopies "+ref, copies, err)
	}
	for _, f := range []string{"f0", "f1"} {
		synced, err := in.SyncedLast(ctx, f, "s1")
		get("SyncedLast "+f, synced, err)
	}
	return out
}

// readWindow reads what both answer of one window of lastUpdated.
func readWindow(t *testing.T, cp state.Checkpoint, from, until time.Time, out map[string]any) {
	t.Helper()
	key := fmt.Sprintf(" [%s, %s)", from.Format(time.StampMilli), until.Format(time.StampMilli))
	check := func(name string, v any, err error) {
		if err != nil {
			t.Fatalf("%s%s: %v", name, key, err)
		}
		out[name+key] = v
	}
	n, err := cp.CountKnown(ctx, from, until)
	check("CountKnown", n, err)
	known, err := cp.KnownIn(ctx, from, until)
	check("KnownIn", known, err)
	for _, size := range []int{1, 3} {
		kw, err := cp.KnownWindows(ctx, from, until, size, 2)
		check(fmt.Sprint("KnownWindows ", size), kw, err)
	}
	cuts, err := cp.KnownBounds(ctx, from, until, 3)
	check("KnownBounds", cuts, err)
	mid, err := cp.MedianKnown(ctx, from, until)
	check("MedianKnown", mid, err)
}

// readMarks reads the checkpoint's marks.
func readMarks(t *testing.T, cp state.Checkpoint, out map[string]any) {
	t.Helper()
	for name, get := range map[string]func(context.Context) (time.Time, error){
		"Watermark": cp.Watermark, "VerifiedUntil": cp.VerifiedUntil, "FullCheck": cp.FullCheck,
	} {
		v, err := get(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
}
