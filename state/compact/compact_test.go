package compact

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"erpsync/state"
)

// ids numbers names in the order first asked, as a fields table does.
func ids() IDs {
	m := map[string]uint64{}
	return func(name string) (uint64, error) {
		if id, ok := m[name]; ok {
			return id, nil
		}
		m[name] = uint64(len(m) + 1)
		return m[name], nil
	}
}

// read decodes b by the names ids gave.
func read(t *testing.T, ids IDs, names []string, b []byte, diff bool, base map[string]string) map[string]string {
	t.Helper()
	byID := map[uint64]string{}
	for _, n := range names {
		id, _ := ids(n)
		byID[id] = n
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	err := Walk(b, diff, func(id uint64, v string, absent bool) error {
		if absent {
			delete(out, byID[id])
		} else {
			out[byID[id]] = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzFromJSON: the values of json.Marshal's bytes of any map of strings
// come back, as encoding/json reads them (what the checkpoint held
// before 008), and the CRM's beside them.
func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{"Paris", "München", "a\"b\\c", "\u2028", "bad \xff", "<&>", "", "日本語", "tab\tline\n"} {
		f.Add("name", s, "city", s+"x")
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		vals := map[string]string{k1: v1, "zip": v2}
		crm := map[string]string{k2: v2, "zip": v1}
		js, _ := json.Marshal(vals)
		cjs, _ := json.Marshal(crm)
		var want, wantCRM map[string]string
		_ = json.Unmarshal(js, &want)
		_ = json.Unmarshal(cjs, &wantCRM)
		id := ids()
		b, err := fromJSON(nil, js, func(k []byte) (uint64, error) { return id(string(k)) })
		if err != nil {
			t.Fatalf("FromJSON(%s): %v", js, err)
		}
		d, err := diffJSON(nil, js, cjs, id)
		if err != nil {
			t.Fatalf("DiffJSON(%s, %s): %v", js, cjs, err)
		}
		names := append(slices.Collect(maps.Keys(want)), slices.Collect(maps.Keys(wantCRM))...)
		got := read(t, id, names, b, false, nil)
		if !maps.Equal(got, want) {
			t.Fatalf("values of %s = %q, want %q", js, got, want)
		}
		if gotCRM := read(t, id, names, d, true, got); !maps.Equal(gotCRM, wantCRM) {
			t.Fatalf("CRM values of %s = %q, want %q", cjs, gotCRM, wantCRM)
		}
	})
}

// TestWalkMalformed: a damaged encoding is an error, never a panic.
func TestWalkMalformed(t *testing.T) {
	b, _ := AppendValues(nil, map[string]string{"name": strings.Repeat("x", 200)}, ids())
	for i := range len(b) {
		if err := Walk(b[:i], false, func(uint64, string, bool) error { return nil }); i > 0 && !errors.Is(err, ErrMalformed) {
			t.Errorf("%d bytes of %d: %v", i, len(b), err)
		}
	}
	if err := Walk([]byte{0x80}, true, func(uint64, string, bool) error { return nil }); !errors.Is(err, ErrMalformed) {
		t.Errorf("a varint cut short: %v", err)
	}
}

// TestHash: a sha256 in hex is kept as its 32 bytes; any other hash as
// its text.
func TestHash(t *testing.T) {
	for _, h := range []string{strings.Repeat("0123456789abcdef", 4), strings.Repeat("A", 64), "h1", "", strings.Repeat("g", 64)} {
		stored := Hash(h)
		if b, ok := stored.([]byte); ok != (h == strings.Repeat("0123456789abcdef", 4)) || ok && len(b) != 32 {
			t.Errorf("Hash(%q) = %v", h, stored)
		}
		if got := ReadHash(stored); got != h {
			t.Errorf("ReadHash(Hash(%q)) = %q", h, got)
		}
	}
}

// TestNoCRMValues: values pushed without a CRM's copy (none read back)
// cost one byte, not an entry a field.
func TestNoCRMValues(t *testing.T) {
	vals := map[string]string{"name": "Alpha", "city": "Paris", "zip": "75001"}
	for _, crm := range []map[string]string{nil, {}} {
		if b, _ := AppendDiff(nil, vals, crm, ids()); len(b) != 1 || b[0] != noCRM {
			t.Errorf("AppendDiff(vals, %v) = %v, want [0]", crm, b)
		}
	}
	if b, _ := AppendDiff(nil, nil, nil, ids()); len(b) != 0 {
		t.Errorf("AppendDiff(nil, nil) = %v, want nothing", b)
	}
}

// TestAppendRecord_AsValuesAndDiff: a record's two stored forms in one
// pass read back as AppendValues' and AppendDiff's do, the CRM's values
// being the very map pushed, an equal one, none, or another.
func TestAppendRecord_AsValuesAndDiff(t *testing.T) {
	t.Parallel()
	vals := map[string]string{"name": "Alpha", "city": "Paris", "zip": "75001", "bad": "x\xffy", "onHold": ""}
	for _, tc := range []struct {
		name string
		vals map[string]string
		crm  map[string]string
	}{
		{"the very map", vals, vals},
		{"an equal map", vals, maps.Clone(vals)},
		{"none", vals, nil},
		{"empty", vals, map[string]string{}},
		{"nothing pushed", nil, map[string]string{"name": "Beta"}},
		{"differing, absent and more", vals, map[string]string{"name": "Beta", "city": "Paris", "bad": "x\uFFFDy", "onHold": "false", "extra": "e"}},
		{"only some held", vals, map[string]string{"zip": "75001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := ids()
			wantV, _ := AppendValues(nil, tc.vals, id)
			wantD, _ := AppendDiff(nil, tc.vals, tc.crm, id)
			gotV, gotD, err := AppendRecord([]byte("v"), []byte("d"), tc.vals, tc.crm, id)
			if err != nil {
				t.Fatal(err)
			}
			if gotV[0] != 'v' || gotD[0] != 'd' {
				t.Fatalf("not appended: %q, %q", gotV, gotD)
			}
			names := []string{"name", "city", "zip", "bad", "onHold", "extra"}
			v, w := read(t, id, names, gotV[1:], false, nil), read(t, id, names, wantV, false, nil)
			if !maps.Equal(v, w) || len(gotV[1:]) != len(wantV) {
				t.Errorf("values %q, want %q", v, w)
			}
			if string(wantD) == string([]byte{noCRM}) {
				if string(gotD[1:]) != string(wantD) {
					t.Errorf("CRM values %q, want %q", gotD[1:], wantD)
				}
				return
			}
			if c, w := read(t, id, names, gotD[1:], true, v), read(t, id, names, wantD, true, w); !maps.Equal(c, w) || len(gotD[1:]) != len(wantD) {
				t.Errorf("CRM values %q (%d bytes), want %q (%d bytes)", c, len(gotD)-1, w, len(wantD))
			}
		})
	}
}

// TestAppendHash: a hash appended is Hash's stored form: the 32 bytes of
// a lowercase hex sha256, else nothing appended (the text is stored).
func TestAppendHash(t *testing.T) {
	for _, h := range []string{strings.Repeat("0123456789abcdef", 4), strings.Repeat("A", 64), "h1", "", strings.Repeat("f", 63) + "g"} {
		got, ok := AppendHash([]byte("x"), h)
		want, isBytes := Hash(h).([]byte)
		if ok != isBytes || ok && string(got[1:]) != string(want) || !ok && string(got) != "x" {
			t.Errorf("AppendHash(%q) = %x, %v; Hash gives %v", h, got, ok, Hash(h))
		}
	}
	h, buf := strings.Repeat("ab", 32), make([]byte, 0, 64)
	if n := testing.AllocsPerRun(10, func() { AppendHash(buf[:0], h) }); n != 0 {
		t.Errorf("AppendHash into a buffer with room allocates %v times, want none", n)
	}
}

// Guarantee: values given in order (AppendFields, an import's upserts)
// are stored as the same values given as maps (AppendRecord): the same
// entries, in any order, and the same diff of the CRM's: nothing where it
// holds the pushed text or the same text as stored (bytes that are not
// UTF-8), an absent entry where its answer lacks the field, the one byte
// of no CRM's values when it lacks them all.
func TestAppendFields_AsAppendRecord(t *testing.T) {
	names := []string{"city", "email", "name", "onHold"}
	for _, tc := range []struct {
		name string
		vals []string
		held []state.Held
	}{
		{"held as pushed", []string{"Bern", "b@example.com", "Beta", "true"}, nil},
		{"cleared held as false", []string{"Bern", "", "Beta", ""}, []state.Held{{At: 3, Value: "false"}}},
		{"other text, absent", []string{"Bern", "", "Beta", ""}, []state.Held{{At: 0, Value: "BERN"}, {At: 1, Absent: true}}},
		{"the same text stored", []string{"a\xffb", "", "", ""}, []state.Held{{At: 0, Value: "a\xfeb"}}},
		{"none held", []string{"a", "b", "c", "d"}, []state.Held{{At: 0, Absent: true}, {At: 1, Absent: true}, {At: 2, Absent: true}, {At: 3, Absent: true}}},
	} {
		o := state.Outcome{Pushed: state.Pushed{Names: names, Vals: tc.vals, Held: tc.held}}
		vals, crm := o.Maps()
		byName := ids()
		fieldIDs := make([]uint64, len(names))
		for i, n := range names {
			fieldIDs[i], _ = byName(n)
		}
		vb, db := AppendFields(nil, nil, fieldIDs, tc.vals, tc.held)
		wantVB, wantDB, err := AppendRecord(nil, nil, vals, crm, byName)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := entries(t, vb, false), entries(t, wantVB, false); !slices.Equal(got, want) {
			t.Errorf("%s: values %q, want %q", tc.name, got, want)
		}
		if got, want := entries(t, db, true), entries(t, wantDB, true); !slices.Equal(got, want) || len(db) != len(wantDB) {
			t.Errorf("%s: CRM's %q (% x), want %q (% x)", tc.name, got, db, want, wantDB)
		}
	}
}

// entries are the entries of a stored form, sorted.
func entries(t *testing.T, b []byte, diff bool) []string {
	t.Helper()
	var out []string
	if diff && len(b) == 1 && b[0] == noCRM {
		return []string{"no CRM's"}
	}
	if err := Walk(b, diff, func(id uint64, v string, absent bool) error {
		out = append(out, fmt.Sprintf("%d=%q absent=%v", id, v, absent))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// Guarantee: an upsert given in order whose CRM's fields are held out of
// range or out of order is refused with an error, not a panic on the
// writer's goroutine; so are values fewer than the names.
func TestTxFields_RefusesHeldOutOfRange(t *testing.T) {
	names := []string{"city", "name"}
	for _, p := range []state.Pushed{
		{Names: names, Vals: []string{"a", "b"}, Held: []state.Held{{At: 2, Value: "x"}}},
		{Names: names, Vals: []string{"a", "b"}, Held: []state.Held{{At: -1, Absent: true}}},
		{Names: names, Vals: []string{"a", "b"}, Held: []state.Held{{At: 1, Value: "x"}, {At: 0, Value: "y"}}},
		{Names: names, Vals: []string{"a", "b"}, Held: []state.Held{{At: 1, Value: "x"}, {At: 1, Value: "y"}}},
		{Names: names, Vals: []string{"a"}},
	} {
		var tx Tx // its checks come before any name is looked up
		if _, _, err := tx.Fields(&p); err == nil {
			t.Errorf("%+v: taken, want an error", p)
		}
		o := state.Outcome{Pushed: p}
		o.Maps() // never panics
	}
}
