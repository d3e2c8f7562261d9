package sqlite_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"erpsync/state"
)

// TestDB_SaveHistoryBatches: events saved many to a statement (two full
// batches and a rest) are all kept, in the order given, each with its
// own values.
func TestDB_SaveHistoryBatches(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	ctx := context.Background()
	db := MustOpenDB(t)
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	var evs []state.Event
	for i := range 150 {
		evs = append(evs, state.Event{Reference: "C-" + strconv.Itoa(i%7), RunID: 3, At: at, Kind: state.EventUpdated,
			Op: "update", File: "day2.csv", Line: i + 2, Status: 200, Answer: "a" + strconv.Itoa(i), Policy: "erp_wins",
			Changes: []state.FieldChange{{Field: "name", Old: "old " + strconv.Itoa(i), New: "new " + strconv.Itoa(i)}}})
	}
	if _, err := db.SaveHistory(ctx, evs, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.HistoryCount(ctx); err != nil || n != 150 {
		t.Fatalf("%d events kept (%v), want 150", n, err)
	}
	got, err := db.History(ctx, "C-3")
	if err != nil {
		t.Fatal(err)
	}
	var want []state.Event
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Reference == "C-3" {
			want = append(want, evs[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("C-3: %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.ID = 0
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("C-3's event %d = %+v, want %+v", i, g, want[i])
		}
	}
}

// TestEncodeChanges_RoundTrip: every value, those JSON escapes and bytes
// that are not UTF-8 included, reads back as it was saved; the stored form
// is a copy, shorter than the JSON saved before (a create's fields: less
// than 0.6 of it); rows saved as JSON before still read.
func TestEncodeChanges_RoundTrip(t *testing.T) {
	values := []string{"", "Acme", "12500.00", `say "hi"`, `C:\dir`, "<b>&</b>", "Zürich", "東京", "line\nbreak\ttab\r",
		"\x00\x1f\b\f", "bad \xff utf-8", "sep\u2028\u2029", "~ !#$%'()*+,-./:;=?@[]^_`{|}", strings.Repeat("long ", 60)}
	for _, old := range values {
		for _, new := range values {
			cs := []state.FieldChange{{Field: "name", Old: old, New: new}, {Field: "city", New: new}, {Field: "x<y"}}
			got, err := state.EncodeChanges(cs)
			if err != nil {
				t.Fatal(err)
			}
			back, err := state.DecodeChanges(got)
			if err != nil || !reflect.DeepEqual(back, cs) {
				t.Fatalf("changes %q read back as %q, %v", cs, back, err)
			}
			earlier, _ := json.Marshal(cs)
			if back, err := state.DecodeChanges(string(earlier)); err != nil || utf8.ValidString(old+new) && !reflect.DeepEqual(back, cs) {
				t.Fatalf("JSON row %s read back as %q, %v", earlier, back, err)
			}
		}
	}
	if got, _ := state.EncodeChanges(nil); got != "" {
		t.Errorf("no changes: %q, want \"\"", got)
	}
	create := []state.FieldChange{{Field: "name", New: "Müller & Söhne GmbH"}, {Field: "email", New: "info@mueller.example"},
		{Field: "phone", New: "+49 30 1234567"}, {Field: "billingCity", New: "Berlin"}, {Field: "billingCountry", New: "DE"},
		{Field: "creditLimit", New: "12500.00"}, {Field: "currency", New: "EUR"}, {Field: "vatNumber", New: "DE123456789"}}
	stored, _ := state.EncodeChanges(create)
	earlier, _ := json.Marshal(create)
	if float64(len(stored)) >= 0.6*float64(len(earlier)) {
		t.Errorf("a create's changes stored in %d bytes, its JSON %d: want less than 0.6 of it", len(stored), len(earlier))
	}
}

// TestDecodeChanges_Damaged: a stored form cut short or of an unknown
// form is an error, never a panic nor a wrong value.
func TestDecodeChanges_Damaged(t *testing.T) {
	cs := []state.FieldChange{{Field: "name", Old: "Acme", New: strings.Repeat("x", 300)}, {Field: "city", New: "Lyon"}}
	stored, _ := state.EncodeChanges(cs)
	for n := 1; n < len(stored); n++ {
		if back, err := state.DecodeChanges(stored[:n]); err == nil {
			t.Fatalf("cut at %d: read as %q with no error", n, back)
		}
	}
	for _, bad := range []string{"\x02abc", "{", "\x01\x00", "\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", stored + "x"} {
		if back, err := state.DecodeChanges(bad); err == nil {
			t.Errorf("%q read as %q with no error", bad, back)
		}
	}
}
