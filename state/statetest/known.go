package statetest

import (
	"slices"
	"time"

	"erpsync/state"
)

// testForgetThenSee: a customer whose key changed (it lost or gained its
// reference by hand) is both forgotten under its old key and seen under
// its new one, with the same crm id, in one save: it stays known, at its
// new time.
func testForgetThenSee(h *H) {
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	for i, tc := range []struct{ before, after string }{{"HAND-1", ""}, {"", "HAND-2"}} {
		id := int64(42 + i)
		h.must(h.CP.SaveCounted(ctx, state.Counted{Unmanaged: []state.Known{{Reference: tc.before, CRMID: id, LastUpdated: at}}}))
		moved := at.Add(time.Hour)
		h.must(h.CP.SaveCounted(ctx, state.Counted{At: moved, Forget: []int64{id},
			Unmanaged: []state.Known{{Reference: tc.after, CRMID: id, LastUpdated: moved}}}))
		got, err := h.CP.KnownIn(ctx, at, moved.Add(time.Second))
		h.must(err)
		want := []state.Known{{Reference: tc.after, CRMID: id, LastUpdated: moved}}
		if !slices.Equal(got, want) {
			h.Errorf("%q → %q: known after the save: %+v, want %+v", tc.before, tc.after, got, want)
		}
		h.must(h.CP.SaveCounted(ctx, state.Counted{Forget: []int64{id}}))
	}
}

// testKnownWindows: the known customers of a window are the managed
// records not deleted by hand and the unmanaged customers whose reference
// erpsync does not manage, by lastUpdated then reference; a window is
// [from, until), a zero until has no end.
func testKnownWindows(h *H) {
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	var outs []state.Outcome
	for i, ref := range []string{"M3", "M1", "M2"} {
		o := Upsert(ref, "h", nil)
		o.CRMID, o.CRMLastUpdated = int64(10+i), sec(i)
		outs = append(outs, o)
	}
	h.Write(outs...)
	h.must(h.CP.SaveCounted(ctx, state.Counted{Unmanaged: []state.Known{
		{Reference: "U1", CRMID: 20, LastUpdated: sec(1)},
		{Reference: "M2", CRMID: 21, LastUpdated: sec(3)}, // its reference is managed: counted once, as managed
		{CRMID: 22, LastUpdated: sec(5)},
	}}))
	all, err := h.CP.KnownIn(ctx, time.Time{}, time.Time{})
	h.must(err)
	want := []state.Known{
		{Reference: "M3", CRMID: 10, LastUpdated: sec(0), Managed: true},
		{Reference: "M1", CRMID: 11, LastUpdated: sec(1), Managed: true},
		{Reference: "U1", CRMID: 20, LastUpdated: sec(1)},
		{Reference: "M2", CRMID: 12, LastUpdated: sec(2), Managed: true},
		{Reference: "", CRMID: 22, LastUpdated: sec(5)},
	}
	if !slices.Equal(all, want) {
		h.Errorf("KnownIn = %+v\nwant %+v", all, want)
	}
	for _, tc := range []struct {
		from, until time.Time
		n           int
	}{{time.Time{}, time.Time{}, 5}, {sec(1), sec(2), 2}, {sec(1), time.Time{}, 4}, {sec(6), time.Time{}, 0}} {
		if n, err := h.CP.CountKnown(ctx, tc.from, tc.until); err != nil || n != tc.n {
			h.Errorf("CountKnown(%v, %v) = %d, %v; want %d", tc.from, tc.until, n, err, tc.n)
		}
	}
	kw, err := h.CP.KnownWindows(ctx, sec(1), time.Time{}, 1, 1)
	want2 := []state.KnownWindow{{From: sec(1), Until: sec(2), Known: 2}, {From: sec(2), Until: sec(5), Known: 1}, {From: sec(5), Known: 1}}
	if h.must(err); !slices.Equal(kw, want2) {
		h.Errorf("KnownWindows = %v, want %v", kw, want2)
	}
	if mid, err := h.CP.MedianKnown(ctx, time.Time{}, time.Time{}); err != nil || mid != sec(1) {
		h.Errorf("MedianKnown = %v, %v; want %v", mid, err, sec(1))
	}
	if mid, err := h.CP.MedianKnown(ctx, sec(9), time.Time{}); err != nil || !mid.IsZero() {
		h.Errorf("MedianKnown of nobody = %v, %v; want the zero time", mid, err)
	}
	n, err := h.Inspector().UnmanagedCount(ctx)
	if h.must(err); n != 2 {
		h.Errorf("UnmanagedCount = %d, want 2", n)
	}
}

// testKnownBounds: the cuts split the known customers in parts of about
// equal numbers, strictly inside the window, one per second at most.
func testKnownBounds(h *H) {
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var seen []state.Known
	for i := range 9 { // seconds 0,0,0,1,1,1,2,2,2 … by three
		seen = append(seen, state.Known{CRMID: int64(i + 1), LastUpdated: base.Add(time.Duration(i/3)*time.Second + 7*time.Millisecond)})
	}
	h.must(h.CP.SaveCounted(ctx, state.Counted{Unmanaged: seen}))
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	for _, tc := range []struct {
		name      string
		from, til time.Time
		parts     int
		want      []time.Time
	}{
		{"thirds", time.Time{}, time.Time{}, 3, []time.Time{sec(1), sec(2)}},
		{"more parts than seconds", time.Time{}, time.Time{}, 9, []time.Time{sec(1), sec(2)}},
		{"never the window's start", sec(1), time.Time{}, 2, []time.Time{sec(2)}},
		{"one part", time.Time{}, time.Time{}, 1, nil},
		{"nobody", sec(5), time.Time{}, 3, nil},
	} {
		got, err := h.CP.KnownBounds(ctx, tc.from, tc.til, tc.parts)
		if err != nil || !slices.Equal(got, tc.want) {
			h.Errorf("%s: KnownBounds = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// testKnownByReferences answers, for many references at once, what
// KnownByReference answers for each: managed, unmanaged only, both
// (managed wins), deleted by hand (then not known as managed), unknown,
// and references that need quoting.
func testKnownByReferences(h *H) {
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	a, b, gone, odd := Upsert("A", "ha", nil), Upsert("B", "hb", nil), Upsert("GONE", "hg", nil), Upsert(`Q"uote\ ü`, "hq", nil)
	a.CRMID, b.CRMID, gone.CRMID, odd.CRMID = 1, 2, 3, 4
	h.Write(a, b, gone, odd)
	h.must(h.CP.SaveCounted(ctx, state.Counted{At: at,
		Unmanaged: []state.Known{{Reference: "B", CRMID: 20, LastUpdated: at}, {Reference: "U", CRMID: 21, LastUpdated: at},
			{Reference: "", CRMID: 22, LastUpdated: at},
			// Two hand-made customers of one reference: the lowest crm id
			// answers, for one reference as for many.
			{Reference: "DUP", CRMID: 39, LastUpdated: at}, {Reference: "DUP", CRMID: 31, LastUpdated: at.Add(time.Second)},
			{Reference: "DUP", CRMID: 35, LastUpdated: at}},
		Gone: []state.Known{{Reference: "GONE", CRMID: 3, LastUpdated: gone.CRMLastUpdated}}}))
	list := []string{"A", "B", "U", "GONE", "NONE", `Q"uote\ ü`, "", "DUP"}
	many, err := h.CP.KnownByReferences(ctx, list)
	h.must(err)
	for _, ref := range list {
		one, ok, err := h.CP.KnownByReference(ctx, ref)
		h.must(err)
		got, found := many[ref]
		if found != ok || got != one {
			h.Errorf("%q: many %+v (%v), one %+v (%v)", ref, got, found, one, ok)
		}
	}
	Equal(h, "known of 8", len(many), 5) // A, B (managed), U, the quoted one, DUP
	if k := many["DUP"]; k.CRMID != 31 {
		h.Errorf("DUP = %+v, want crm id 31", k)
	}
	if k := many["B"]; !k.Managed || k.CRMID != 2 {
		h.Errorf("B = %+v, want the managed record", k)
	}
	if none, err := h.CP.KnownByReferences(ctx, nil); err != nil || none == nil || len(none) != 0 {
		h.Errorf("KnownByReferences(nil) = %#v, %v", none, err)
	}
}

// testDeletedByHand: a managed record found deleted by hand is not known
// any more, until a push or a sighting at its new time; a gone record
// written since it was found is left as it is.
func testDeletedByHand(h *H) {
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	var outs []state.Outcome
	for i, ref := range []string{"D", "C", "B", "A"} {
		o := Upsert(ref, "h", nil)
		o.CRMID = int64(i + 1)
		outs = append(outs, o)
	}
	h.Write(outs...)
	moved := lu.Add(time.Hour)
	h.must(h.CP.SaveCounted(ctx, state.Counted{At: at, Gone: []state.Known{
		{Reference: "D", LastUpdated: lu}, {Reference: "B", LastUpdated: lu}, {Reference: "A", LastUpdated: lu},
		{Reference: "C", LastUpdated: moved}, // written since: left alone
	}}))
	gone, err := h.CP.DeletedByHand(ctx)
	h.must(err)
	want := []state.Known{{Reference: "A", CRMID: 4, LastUpdated: lu, Managed: true},
		{Reference: "B", CRMID: 3, LastUpdated: lu, Managed: true}, {Reference: "D", CRMID: 1, LastUpdated: lu, Managed: true}}
	if !slices.Equal(gone, want) {
		h.Errorf("DeletedByHand = %+v\nwant %+v", gone, want)
	}
	if n, _ := h.CP.CountKnown(ctx, time.Time{}, time.Time{}); n != 1 {
		h.Errorf("CountKnown = %d, want C alone", n)
	}
	if _, ok, _ := h.CP.KnownByReference(ctx, "A"); ok {
		h.Error("A is still known after it was found deleted by hand")
	}
	// Still managed: the record stays, with its values.
	Equal(h, "Count", h.Count(), 4)
	h.Write(Upsert("A", "h2", nil))
	// A sighting at the very lastUpdated recorded is a sighting too.
	h.must(h.CP.SaveSeen(ctx, []state.Seen{{Reference: "B", CRMID: 3, CRMLastUpdated: lu}}))
	gone, err = h.CP.DeletedByHand(ctx)
	if h.must(err); len(gone) != 1 || gone[0].Reference != "D" {
		h.Errorf("after a push of A and a sighting of B: DeletedByHand = %+v, want D alone", gone)
	}
}

// testKnownWindowsCuts: the windows hold about size known customers each
// (a cut falls at the first new second after its share), at least least
// of them, cover the whole span, never cut customers sharing a second
// apart (to the millisecond), and their number follows the customers,
// not the seconds they span.
func testKnownWindowsCuts(h *H) {
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	var seen []state.Known
	for i := range 12 { // seconds 0,0,0,1,1,1,2,2,2,3,3,3 (at .000, .250, .500); then one every hour
		seen = append(seen, state.Known{CRMID: int64(i + 1), LastUpdated: sec(i / 3).Add(time.Duration(i%3) * 250 * time.Millisecond)})
	}
	for i := range 6 {
		seen = append(seen, state.Known{CRMID: int64(100 + i), LastUpdated: sec(3600 * (i + 1))})
	}
	h.must(h.CP.SaveCounted(ctx, state.Counted{Unmanaged: seen}))
	w := func(from, until time.Time, n int) state.KnownWindow {
		return state.KnownWindow{From: from, Until: until, Known: n}
	}
	for _, tc := range []struct {
		name        string
		from, until time.Time
		size, least int
		want        []state.KnownWindow
	}{
		{"six a window", time.Time{}, sec(4), 6, 1, []state.KnownWindow{w(time.Time{}, sec(2), 6), w(sec(2), sec(4), 6)}},
		{"at least three", time.Time{}, sec(4), 1000, 3,
			[]state.KnownWindow{w(time.Time{}, sec(2), 6), w(sec(2), sec(3), 3), w(sec(3), sec(4), 3)}},
		{"a second is never cut", sec(0), sec(4), 2, 1,
			[]state.KnownWindow{w(sec(0), sec(1), 3), w(sec(1), sec(2), 3), w(sec(2), sec(3), 3), w(sec(3), sec(4), 3)}},
		{"hours apart, as many as customers call for", sec(4), time.Time{}, 2, 1,
			[]state.KnownWindow{w(sec(4), sec(3*3600), 2), w(sec(3*3600), sec(5*3600), 2), w(sec(5*3600), time.Time{}, 2)}},
		{"nobody", sec(3600 * 7), time.Time{}, 3, 3, []state.KnownWindow{w(sec(3600*7), time.Time{}, 0)}},
	} {
		got, err := h.CP.KnownWindows(ctx, tc.from, tc.until, tc.size, tc.least)
		if err != nil || !slices.Equal(got, tc.want) {
			h.Errorf("%s: KnownWindows =\n%v, %v; want\n%v", tc.name, got, err, tc.want)
		}
	}
}
