package statetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"time"

	"erpsync/state"
)

func testEmpty(h *H) {
	Equal(h, "Count", h.Count(), 0)
	Equal(h, "Hashes", len(h.Hashes()), 0)
	if rec := h.Get("A"); rec != nil {
		h.Errorf("Get = %+v", rec)
	}
	if _, managed, err := h.CP.CRMLastUpdated(ctx, "A"); err != nil || managed {
		h.Errorf("CRMLastUpdated: managed %v, %v", managed, err)
	}
	Equal(h, "Failures", len(h.Failures()), 0)
	runs, err := h.CP.Runs(ctx, 0)
	h.must(err)
	Equal(h, "Runs", len(runs), 0)
}

func testUpsertReadBack(h *H) {
	good := state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: "A", Line: 2, Hash: "h1",
		Values: map[string]string{"name": "Alpha", "city": "Zürich"}, CRMID: 10, CRMLastUpdated: lu,
		CRMValues: map[string]string{"name": "Alpha", "city": "Zürich", "email": "a@example.com"}}
	h.Write(good)
	want := &state.Record{Reference: "A", Hash: "h1", Values: good.Values, CRMID: 10, CRMLastUpdated: lu,
		CRMValues: good.CRMValues, PushedAt: Start}
	if got := h.Get("A"); !reflect.DeepEqual(got, want) {
		h.Errorf("A = %+v\nwant %+v", got, want)
	}
	if r := h.Get("unknown"); r != nil {
		h.Errorf("unknown reference = %+v, want nil", r)
	}
	// What is read is a copy: changing it changes nothing kept.
	h.Get("A").Values["name"] = "changed"
	good.Values["name"] = "changed too"
	if got := h.Get("A"); got.Values["name"] != "Alpha" {
		h.Errorf("the record kept a map it was given or returned: %v", got.Values)
	}
	if hs := h.Hashes(); !slices.Equal(hs, []string{"A=h1"}) || h.Count() != 1 {
		h.Errorf("Hashes = %v, Count = %d", hs, h.Count())
	}
}

func testNoValues(h *H) {
	h.Write(state.Outcome{Op: state.OpUpsert, Reference: "E", Hash: "h"})
	r := h.Get("E")
	if r == nil || r.Values == nil || len(r.Values) != 0 || r.CRMValues == nil || len(r.CRMValues) != 0 ||
		!r.CRMLastUpdated.IsZero() || r.CRMID != 0 {
		h.Errorf("E = %+v", r)
	}
}

// testValuesAsStored: values are kept as text (JSON): every valid string
// comes back as it was, bytes that are not UTF-8 come back as U+FFFD.
func testValuesAsStored(h *H) {
	vals := map[string]string{"name": "Zoë <&> \"q\" \\ \u2028\u2029\t", "": "empty key", "city": ""}
	o := Upsert("V", "h", vals)
	o.CRMValues = map[string]string{"name": "bad \xff byte"}
	h.Write(o)
	r := h.Get("V")
	if !reflect.DeepEqual(r.Values, vals) {
		h.Errorf("Values = %q, want %q", r.Values, vals)
	}
	if want := map[string]string{"name": "bad \ufffd byte"}; !reflect.DeepEqual(r.CRMValues, want) {
		h.Errorf("CRMValues = %q, want %q", r.CRMValues, want)
	}
}

// testPushedInOrder: an upsert given in order (Outcome.Pushed) is kept
// as the same values given as maps are: the CRM's values are the pushed
// ones but for what it holds otherwise (another text, the cleared equal,
// a field its answer lacks, bytes that are not UTF-8), and the record is
// read back as Outcome.Maps makes it; names shared by two outcomes serve
// both.
func testPushedInOrder(h *H) {
	names := []string{"city", "email", "name", "onHold", "phone"}
	p := state.Pushed{Names: names, Vals: []string{"Zürich", "", "Alpha", "", "bad \xff"}, Held: []state.Held{
		{At: 1, Value: "held@example.com"}, {At: 3, Value: "false"}, {At: 4, Absent: true}}}
	q := state.Pushed{Names: names, Vals: []string{"Bern", "b@example.com", "Beta", "true", "+41"}}
	allGone := state.Pushed{Names: names[:2], Vals: []string{"x", "y"}, Held: []state.Held{{At: 0, Absent: true}, {At: 1, Absent: true}}}
	textSame := state.Pushed{Names: names[2:3], Vals: []string{"bad \xff byte"}, Held: []state.Held{{At: 0, Value: "bad \xfe byte"}}}
	outs := []state.Outcome{
		{RunID: 1, Op: state.OpUpsert, Reference: "P", Hash: "hp", CRMID: 1, CRMLastUpdated: lu, Pushed: p},
		{RunID: 1, Op: state.OpUpsert, Reference: "Q", Hash: "hq", CRMID: 2, CRMLastUpdated: lu, Pushed: q},
		{RunID: 1, Op: state.OpUpsert, Reference: "G", Hash: "hg", CRMID: 3, CRMLastUpdated: lu, Pushed: allGone},
		{RunID: 1, Op: state.OpUpsert, Reference: "T", Hash: "ht", CRMID: 4, CRMLastUpdated: lu, Pushed: textSame},
	}
	h.Write(outs...)
	for _, o := range outs {
		vals, crm := o.Maps()
		got := h.Get(o.Reference)
		if got == nil {
			h.Errorf("%s: not kept", o.Reference)
			continue
		}
		if !reflect.DeepEqual(got.Values, asStored(vals)) || !reflect.DeepEqual(got.CRMValues, asStored(crm)) {
			h.Errorf("%s: values %q, CRM's %q; want %q, %q", o.Reference, got.Values, got.CRMValues, asStored(vals), asStored(crm))
		}
	}
	if got := h.Get("P"); got != nil && (got.CRMValues["onHold"] != "false" || got.CRMValues["email"] != "held@example.com" ||
		got.CRMValues["name"] != "Alpha" || len(got.CRMValues) != 4) {
		h.Errorf("P's CRM values %q", got.CRMValues)
	}
	if got := h.Get("G"); got != nil && (len(got.CRMValues) != 0 || len(got.Values) != 2) {
		h.Errorf("G: values %q, CRM's %q; want two and none", got.Values, got.CRMValues)
	}
}

// asStored is m as a checkpoint keeps text (JSON): bytes that are not
// UTF-8 become U+FFFD.
func asStored(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToValidUTF8(k, "\ufffd")] = strings.ToValidUTF8(v, "\ufffd")
	}
	return out
}

func testFailureKeepsRecord(h *H) {
	good := Upsert("A", "h1", map[string]string{"name": "Alpha"})
	h.Write(good)
	h.Clock.Set(Start.Add(time.Hour))
	h.Write(refused(2, state.OpUpsert, "save_failed"))
	if got := h.Get("A"); got == nil || got.Hash != "h1" || got.Values["name"] != "Alpha" || !got.PushedAt.Equal(Start) {
		h.Errorf("A = %+v, want the last good record", got)
	}
	want := []state.Failure{{RunID: 2, Op: "upsert", Reference: "A", Line: 7, Status: 400, Code: "save_failed",
		Message: "Failed to save instance.", At: Start.Add(time.Hour)}}
	if got := h.Failures(); !reflect.DeepEqual(got, want) {
		h.Errorf("failures = %+v\nwant %+v", got, want)
	}
	h.Write(Upsert("A", "h3", nil))
	if rec := h.Get("A"); rec == nil || rec.Hash != "h3" {
		h.Errorf("after a success: %+v, want h3", rec)
	}
	Equal(h, "failures after a success", len(h.Failures()), 0)
}

func testFailureUnmanaged(h *H) {
	h.Write(refused(1, state.OpUpsert, "invalid_param"))
	if r := h.Get("A"); r != nil || h.Count() != 0 {
		h.Errorf("a failure made %+v managed", r)
	}
	if _, managed, err := h.CP.CRMLastUpdated(ctx, "A"); managed || err != nil {
		h.Errorf("CRMLastUpdated: managed %v, %v", managed, err)
	}
	if fs := h.Failures(); len(fs) != 1 || fs[0].Reference != "A" {
		h.Errorf("Failures = %+v", fs)
	}
}

func testFailureReplaces(h *H) {
	at := Start.Add(-time.Hour + 500*time.Millisecond)
	second := refused(3, state.OpDelete, "delete_failed")
	second.Failure = &state.Failure{RunID: 9, Op: state.OpDelete, Line: 8, Status: 409, Code: "delete_failed", Message: "in use", At: at}
	other := refused(4, state.OpUpsert, "x")
	other.Reference = "0-first"
	h.Write(refused(2, state.OpUpsert, "save_failed"), second, other)
	want := []state.Failure{
		{RunID: 4, Op: "upsert", Reference: "0-first", Line: 7, Status: 400, Code: "x", Message: "Failed to save instance.", At: Start},
		{RunID: 9, Op: "delete", Reference: "A", Line: 8, Status: 409, Code: "delete_failed", Message: "in use", At: at.Truncate(time.Second)},
	}
	if got := h.Failures(); !reflect.DeepEqual(got, want) {
		h.Errorf("failures = %+v\nwant %+v (by reference, times to the second)", got, want)
	}
}

func testSuccessClearsFailure(h *H) {
	good := Upsert("A", "h1", nil)
	far := refused(1, state.OpUpsert, "save_failed")
	far.Reference = "Z-far"
	other := good
	other.Reference = "B"
	h.Write(far, refused(1, state.OpUpsert, "save_failed"), other)
	Equal(h, "failures before", len(h.Failures()), 2)
	batch := []state.Outcome{refused(1, state.OpUpsert, "save_failed"), good}
	for i := range 1200 {
		o := good
		o.Reference = fmt.Sprintf("N-%04d", i)
		batch = append(batch, o)
	}
	fixed := good
	fixed.Reference = "Z-far"
	// One transaction: the writer's batch is bigger than the outcomes.
	w := h.CP.NewWriter(5000, time.Hour)
	for _, o := range append(batch, fixed) {
		h.must(w.Put(ctx, o))
	}
	h.must(w.Close())
	if got := h.Failures(); len(got) != 0 {
		h.Errorf("failures after the successes = %+v", got)
	}
}

func testDeleteRemoves(h *H) {
	good := Upsert("A", "h1", map[string]string{"name": "Alpha"})
	good.CRMID = 10
	h.Write(good, Upsert("B", "h2", nil), refused(1, state.OpDelete, "delete_failed"))
	h.Clock.Set(Start.Add(24 * time.Hour))
	h.Write(state.Outcome{RunID: 4, Op: state.OpDelete, Reference: "A", DeletedCopy: []byte(`{"id":10,"name":"Alpha"}`)})
	h.Clock.Set(Start.Add(25 * time.Hour))
	h.Write(state.Outcome{RunID: 5, Op: state.OpDelete, Reference: "A", CRMID: 11, DeletedCopy: []byte(`{"id":11}`)},
		state.Outcome{RunID: 5, Op: state.OpDelete, Reference: "B"})
	if r := h.Get("A"); r != nil {
		h.Errorf("A still managed after its delete: %+v", r)
	}
	if _, managed, _ := h.CP.CRMLastUpdated(ctx, "A"); managed {
		h.Error("CRMLastUpdated: still managed after delete")
	}
	Equal(h, "count", h.Count(), 0)
	Equal(h, "failures after the delete", len(h.Failures()), 0)
	copies, err := h.Inspector().DeletedCopies(ctx, "A")
	h.must(err)
	// Newest first; the CRM id comes from the record when the outcome has none.
	want := []state.Deleted{
		{Reference: "A", CRMID: 11, Copy: []byte(`{"id":11}`), RunID: 5, DeletedAt: Start.Add(25 * time.Hour)},
		{Reference: "A", CRMID: 10, Copy: []byte(`{"id":10,"name":"Alpha"}`), RunID: 4, DeletedAt: Start.Add(24 * time.Hour)},
	}
	if !reflect.DeepEqual(copies, want) {
		h.Errorf("copies = %+v\nwant %+v", copies, want)
	}
	if copies, _ := h.Inspector().DeletedCopies(ctx, "B"); len(copies) != 0 {
		h.Errorf("a delete without a copy kept %+v", copies)
	}
}

func testFailedDelete(h *H) {
	good := Upsert("A", "h1", map[string]string{"name": "Alpha"})
	h.Write(good)
	before := h.Get("A")
	del := state.Outcome{RunID: 2, Op: state.OpDelete, Reference: "A", DeletedCopy: []byte(`{}`),
		Failure: &state.Failure{Status: 500, Message: "server error"}}
	h.Write(del)
	if got := h.Get("A"); !reflect.DeepEqual(got, before) {
		h.Errorf("A = %+v after a failed delete", got)
	}
	if copies, _ := h.Inspector().DeletedCopies(ctx, "A"); len(copies) != 0 {
		h.Errorf("a copy was kept for a failed delete: %+v", copies)
	}
	if fs := h.Failures(); len(fs) != 1 || fs[0].Op != state.OpDelete {
		h.Errorf("failures = %+v", fs)
	}
}

func testOrder(h *H) {
	h.Write(Upsert("A", "h1", nil), Upsert("A", "h2", nil), state.Outcome{Op: state.OpDelete, Reference: "A"}, Upsert("A", "h3", nil))
	if rec := h.Get("A"); rec == nil || rec.Hash != "h3" {
		h.Errorf("Get = %+v, want the last outcome's h3", rec)
	}
	h.Write(Upsert("B", "h1", nil), state.Outcome{Op: state.OpDelete, Reference: "B"})
	if rec := h.Get("B"); rec != nil {
		h.Errorf("Get = %+v, want B deleted", rec)
	}
}

func testCounts(h *H) {
	const n = 250
	rs := refs(n)
	var outs []state.Outcome
	for _, i := range rand.Perm(n) {
		outs = append(outs, Upsert(rs[i], "h"+rs[i], nil))
	}
	h.Write(outs...)
	Equal(h, "Count", h.Count(), n)
	want := make([]string, n)
	for i, ref := range rs {
		want[i] = ref + "=h" + ref
	}
	if !slices.Equal(h.Hashes(), want) {
		h.Errorf("Hashes: not every reference once in byte order with its hash")
	}
	calls := 0
	err := h.CP.Hashes(ctx, func(string, string) error { calls++; return errStop })
	if err != errStop || calls != 1 {
		h.Errorf("Hashes with fn failing: %v after %d calls, want fn's error as is after 1", err, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.CP.Hashes(cctx, func(string, string) error { return nil }); err == nil {
		h.Error("Hashes with a cancelled context succeeded")
	}
}

func testHashesByteOrder(h *H) {
	var outs []state.Outcome
	for _, ref := range []string{"b", "A", "a", "C-10", "C-2", "é"} {
		outs = append(outs, Upsert(ref, "h-"+ref, map[string]string{"name": ref}))
	}
	h.Write(outs...)
	want := []string{"A=h-A", "C-10=h-C-10", "C-2=h-C-2", "a=h-a", "b=h-b", "é=h-é"}
	if got := h.Hashes(); !slices.Equal(got, want) {
		h.Errorf("got %v\nwant %v", got, want)
	}
}

func testHashesBetween(h *H) {
	var outs []state.Outcome
	for i, ref := range []string{"A", "B", "C", "D"} {
		o := Upsert(ref, "h"+ref, nil)
		o.RowSum = uint64(i)
		outs = append(outs, o)
	}
	h.Write(outs...)
	between := func(from, to string) []string {
		var out []string
		h.must(h.CP.HashesBetween(ctx, from, to, func(ref, hash string) error { out = append(out, ref+"="+hash); return nil }))
		var sums []string
		h.must(h.CP.HashSumsBetween(ctx, from, to, func(ref, hash string, sum uint64) error {
			sums = append(sums, fmt.Sprintf("%s=%s", ref, hash))
			if want := uint64(ref[0] - 'A'); sum != want {
				h.Errorf("sum of %s = %d, want %d", ref, sum, want)
			}
			return nil
		}))
		if !slices.Equal(out, sums) {
			h.Errorf("HashesBetween %v, HashSumsBetween %v", out, sums)
		}
		return out
	}
	for _, tc := range []struct {
		from, to string
		want     []string
	}{
		{"", "", []string{"A=hA", "B=hB", "C=hC", "D=hD"}},
		{"B", "D", []string{"B=hB", "C=hC"}},
		{"Bz", "", []string{"C=hC", "D=hD"}},
		{"", "B", []string{"A=hA"}},
		{"C", "C", nil},
	} {
		if got := between(tc.from, tc.to); !slices.Equal(got, tc.want) {
			h.Errorf("[%q, %q) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	err := h.CP.HashSumsBetween(ctx, "", "", func(string, string, uint64) error { return errStop })
	if err != errStop {
		h.Errorf("HashSumsBetween with fn failing: %v", err)
	}
}

func testRecords(h *H) {
	h.Write(Upsert("b", "hb", map[string]string{"n": "2"}), Upsert("a", "ha", map[string]string{"n": "1"}))
	var got []string
	h.must(h.CP.Records(ctx, func(r state.Record) error {
		got = append(got, fmt.Sprintf("%s %s %v %d %v", r.Reference, r.Hash, r.Values, r.CRMID, r.PushedAt.Equal(Start)))
		return nil
	}))
	want := []string{"a ha map[n:1] 100 true", "b hb map[n:2] 100 true"}
	if !slices.Equal(got, want) {
		h.Errorf("got %q\nwant %q", got, want)
	}
	if err := h.CP.Records(ctx, func(state.Record) error { return errStop }); err != errStop {
		h.Errorf("err = %v, want stop", err)
	}
}

func testValues(h *H) {
	h.Write(Upsert("a", "ha", map[string]string{"n": "1", "city": "Lyon"}), Upsert("e", "he", nil))
	got, err := h.CP.Values(ctx, "a")
	if err != nil || fmt.Sprint(got) != "map[city:Lyon n:1]" {
		h.Errorf("Values(a) = %v, %v", got, err)
	}
	if got, err := h.CP.Values(ctx, "e"); err != nil || got == nil || len(got) != 0 {
		h.Errorf("Values(e) = %#v, %v; want an empty map", got, err)
	}
	if got, err := h.CP.Values(ctx, "nobody"); err != nil || got != nil {
		h.Errorf("Values(nobody) = %v, %v; want nil, nil", got, err)
	}
}

func testCRMLastUpdated(h *H) {
	o := Upsert("K1", "h1", map[string]string{"name": "One"})
	o.CRMLastUpdated = Start.Add(-5 * time.Minute)
	h.Write(o)
	at, managed, err := h.CP.CRMLastUpdated(ctx, "K1")
	if err != nil || !managed || !at.Equal(Start.Add(-5*time.Minute)) {
		h.Errorf("CRMLastUpdated(K1) = %s, %v, %v; want %s, managed", at, managed, err, Start.Add(-5*time.Minute))
	}
	if _, managed, err := h.CP.CRMLastUpdated(ctx, "nobody"); managed || err != nil {
		h.Errorf("CRMLastUpdated(nobody) = managed %v, %v", managed, err)
	}
}

func testSaveSeen(h *H) {
	h.Write(Upsert("MINE", "h", map[string]string{"name": "x"}))
	h.must(h.CP.SaveSeen(ctx, nil))
	// An older copy does not replace a newer one.
	h.must(h.CP.SaveSeen(ctx, []state.Seen{{Reference: "MINE", CRMID: 100, CRMLastUpdated: lu.Add(-time.Hour),
		CRMValues: map[string]string{"name": "stale"}}}))
	if r := h.Get("MINE"); r.CRMValues["name"] != "x" || !r.CRMLastUpdated.Equal(lu) {
		h.Errorf("a stale copy was saved: %v %v", r.CRMLastUpdated, r.CRMValues)
	}
	edited := lu.Add(time.Hour)
	h.must(h.CP.SaveSeen(ctx, []state.Seen{
		{Reference: "MINE", CRMID: 5, CRMLastUpdated: edited, CRMValues: map[string]string{"name": "edited"}},
		{Reference: "NOT-OURS", CRMID: 6, CRMLastUpdated: edited, CRMValues: map[string]string{"name": "theirs"}},
	}))
	r := h.Get("MINE")
	if r.CRMID != 5 || !r.CRMLastUpdated.Equal(edited) || r.CRMValues["name"] != "edited" {
		h.Errorf("CRM side of MINE = %d %v %v", r.CRMID, r.CRMLastUpdated, r.CRMValues)
	}
	if r.Values["name"] != "x" || r.Hash != "h" || !r.PushedAt.Equal(Start) {
		h.Errorf("pushed side of MINE changed: %+v", r)
	}
	if r := h.Get("NOT-OURS"); r != nil {
		h.Errorf("an unmanaged reference became managed: %+v", r)
	}
	Equal(h, "count", h.Count(), 1)
}

// sums streams the checkpoint's row sums.
func sums(h *H) map[string]uint64 {
	h.Helper()
	out := map[string]uint64{}
	h.must(h.CP.HashSumsBetween(ctx, "", "", func(ref, _ string, sum uint64) error {
		out[ref] = sum
		return nil
	}))
	return out
}

func testRowSums(h *H) {
	a, b, c := Upsert("A", "ha", nil), Upsert("B", "hb", nil), Upsert("C", "hc", nil)
	a.RowSum, b.RowSum = 1<<63|5, 7
	h.Write(a, b, c)
	got := sums(h)
	Equal(h, "A's sum", got["A"], uint64(1<<63|5))
	Equal(h, "B's sum", got["B"], uint64(7))
	Equal(h, "C's sum", got["C"], uint64(0))
	b.RowSum = 0 // pushed again from a row that is not plain
	h.Write(b)
	Equal(h, "B's sum after a push without one", sums(h)["B"], uint64(0))
	h.must(h.CP.SaveRowSums(ctx, nil))
	h.must(h.CP.SaveRowSums(ctx, []state.RowSum{
		{Reference: "B", Hash: "hb", Sum: 9},
		{Reference: "C", Hash: "stale", Sum: 11}, // C's hash is hc: left alone
		{Reference: "Z", Hash: "hz", Sum: 13},    // not managed: nothing to fill
	}))
	got = sums(h)
	Equal(h, "B's sum filled in", got["B"], uint64(9))
	Equal(h, "C's sum, its hash differing", got["C"], uint64(0))
	Equal(h, "references", len(got), 3)
	Equal(h, "hashes", len(h.Hashes()), 3)
}

func testSaveHashes(h *H) {
	h.Write(Upsert("A", "ha", map[string]string{"name": "a"}), Upsert("B", "hb", map[string]string{"name": "b"}),
		Upsert("C", "hc", map[string]string{"name": "c", "email": "c@x", "city": "Caen"}))
	h.must(h.CP.SaveHashes(ctx, nil))
	keep := map[string]bool{"name": true, "city": true, "phone": true} // email no longer mapped
	h.must(h.CP.SaveHashes(ctx, []state.Rehash{
		{Reference: "A", Hash: "ha2", Sum: 3},
		{Reference: "B", Hash: "hb2", Sum: 4, Values: map[string]string{"name": "b", "city": "Lyon"}},
		{Reference: "C", Hash: "hc2", Sum: 6, Keep: keep},
		{Reference: "Z", Hash: "hz", Sum: 5}, // not managed: nothing to change
		{Reference: "Y", Hash: "hy", Sum: 7, Keep: keep},
	}))
	if c := h.Get("C"); c.Hash != "hc2" || fmt.Sprint(c.Values) != "map[city:Caen name:c]" {
		h.Errorf("C = %+v, want hash hc2 and its values without email", c)
	}
	if h.Get("Y") != nil || h.Get("Z") != nil {
		h.Errorf("a reference not managed was recorded")
	}
	a, b := h.Get("A"), h.Get("B")
	if a.Hash != "ha2" || fmt.Sprint(a.Values) != "map[name:a]" || fmt.Sprint(a.CRMValues) != "map[name:a]" {
		h.Errorf("A = %+v", a)
	}
	if b.Hash != "hb2" || fmt.Sprint(b.Values) != "map[city:Lyon name:b]" || fmt.Sprint(b.CRMValues) != "map[name:b]" {
		h.Errorf("B = %+v", b)
	}
	if s := sums(h); s["A"] != 3 || s["B"] != 4 || s["C"] != 6 || len(s) != 3 {
		h.Errorf("sums = %v", s)
	}
	if !a.PushedAt.Equal(Start) || !a.CRMLastUpdated.Equal(lu) {
		h.Errorf("A's times changed: %+v", a)
	}
}

func testMilliseconds(h *H) {
	at := time.Date(2024, 3, 1, 2, 0, 5, 123_456_789, time.UTC)
	o := Upsert("MS-1", "h1", map[string]string{"name": "Ms"})
	o.CRMLastUpdated = at.In(time.FixedZone("CET", 3600))
	h.Write(o)
	ms := at.Truncate(time.Millisecond)
	rec := h.Get("MS-1")
	if rec == nil || rec.CRMLastUpdated != ms {
		h.Fatalf("record's CRMLastUpdated: %+v, want %v (to the millisecond, in UTC)", rec, ms)
	}
	got, managed, err := h.CP.CRMLastUpdated(ctx, "MS-1")
	if err != nil || !managed || got != ms {
		h.Errorf("CRMLastUpdated = %v, %v, %v; want %v", got, managed, err, ms)
	}
	later := ms.Add(250 * time.Millisecond) // the same second
	h.must(h.CP.SaveSeen(ctx, []state.Seen{{Reference: "MS-1", CRMID: 100, CRMLastUpdated: later, CRMValues: rec.Values}}))
	if rec = h.Get("MS-1"); rec.CRMLastUpdated != later {
		h.Errorf("after a sighting in the same second: %v, want %v", rec.CRMLastUpdated, later)
	}
	h.must(h.CP.SaveCounted(ctx, state.Counted{Unmanaged: []state.Known{{Reference: "HAND", CRMID: 7, LastUpdated: at}}}))
	second := at.Truncate(time.Second)
	known, err := h.CP.KnownIn(ctx, second, second.Add(time.Second))
	h.must(err)
	want := []state.Known{{Reference: "HAND", CRMID: 7, LastUpdated: ms}, {Reference: "MS-1", CRMID: 100, LastUpdated: later, Managed: true}}
	if !slices.Equal(known, want) {
		h.Errorf("known = %+v, want %+v", known, want)
	}
	// One second is never cut apart, to the millisecond as it may be.
	kw, err := h.CP.KnownWindows(ctx, time.Time{}, time.Time{}, 1, 2)
	if want := []state.KnownWindow{{Known: 2}}; err != nil || !slices.Equal(kw, want) {
		h.Errorf("known windows = %v, %v; want %v", kw, err, want)
	}
	if mid, err := h.CP.MedianKnown(ctx, time.Time{}, time.Time{}); err != nil || mid != second {
		h.Errorf("median = %v, %v; want the second %v", mid, err, second)
	}
	if n, err := h.CP.CountKnown(ctx, second, second.Add(time.Second)); err != nil || n != 2 {
		h.Errorf("count in the second = %d, %v; want 2", n, err)
	}
	if n, err := h.CP.CountKnown(ctx, second, ms); err != nil || n != 0 {
		h.Errorf("count before %v = %d, %v; want 0 (the end is out)", ms, n, err)
	}
}

var _ = errors.New
