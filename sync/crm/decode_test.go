package crm_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm"
)

// listAnswer is a list answer of three records: the first shaped
// otherwise (an unknown member, a parent given by id, a boolean and a
// number as strings, a date with milliseconds and an offset), the second
// unreadable (an object for its name), the third as the reference shows.
const listAnswer = `{"paging":{"total":"3","max":100,"offset":0,"previous":null,"next":null},"data":[
 {"id":11,"reference":"ODD-1","name":"Odd","unknownMember":{"x":[1,2]},"parentCustomer":5,
  "isCredit":"true","creditLimit":"1500.50","maxChequePeriod":"30","phone":612345678,
  "isActive":"false","dateCreated":"2024-05-01T10:00:00+02:00","lastUpdated":"2024-05-01T08:00:01.234Z"},
 {"id":12,"reference":"BAD-2","name":{"first":"no"},"lastUpdated":"2024-05-01T08:00:02Z"},
 {"id":13,"reference":"OK-3","name":"Plain","parentCustomer":null,"isCredit":null,"isActive":true,
  "dateCreated":"2024-05-01T08:00:00Z","lastUpdated":"2024-05-01T08:00:03Z"}]}`

// TestClient_ListTolerant serves listAnswer: the odd record is read, the
// unreadable one is reported with its id and reference, the page goes on.
func TestClient_ListTolerant(t *testing.T) {
	ts := serveBody(t, listAnswer)
	c := MustClient(t, ts.URL, crm.Config{})
	page, err := c.ListPage(t.Context(), crm.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Len() != 3 || page.Paging.Total != 3 {
		t.Fatalf("read %d records of %d, total %d; want 2 of 3, total 3", len(page.Data), page.Len(), page.Paging.Total)
	}
	odd := page.Data[0]
	if odd.ParentCustomer == nil || odd.ParentCustomer.ID != 5 {
		t.Errorf("parentCustomer = %+v, want id 5", odd.ParentCustomer)
	}
	if odd.IsCredit == nil || !*odd.IsCredit || odd.IsActive {
		t.Errorf("isCredit = %v, isActive = %v; want true, false", odd.IsCredit, odd.IsActive)
	}
	if odd.CreditLimit == nil || *odd.CreditLimit != 1500.5 || odd.MaxChequePeriod == nil || *odd.MaxChequePeriod != 30 {
		t.Errorf("creditLimit = %v, maxChequePeriod = %v", odd.CreditLimit, odd.MaxChequePeriod)
	}
	if odd.Phone == nil || *odd.Phone != "612345678" {
		t.Errorf("phone = %v, want its digits", odd.Phone)
	}
	wantUpdated := time.Date(2024, 5, 1, 8, 0, 1, 234e6, time.UTC)
	if !odd.LastUpdated.Equal(wantUpdated) || !odd.DateCreated.Equal(time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("lastUpdated = %s, dateCreated = %s", odd.LastUpdated, odd.DateCreated)
	}
	if got := odd.LastUpdated.String(); got != "2024-05-01T08:00:01.234Z" {
		t.Errorf("lastUpdated written as %s, want milliseconds kept", got)
	}
	if len(page.Unreadable) != 1 {
		t.Fatalf("unreadable = %v, want BAD-2", page.Unreadable)
	}
	bad := page.Unreadable[0]
	if bad.ID != 12 || bad.Reference != "BAD-2" || bad.Index != 1 || !strings.Contains(bad.Error(), `"name"`) {
		t.Errorf("unreadable record: %+v (%v)", bad, bad)
	}
	if strings.Contains(bad.Error(), "first") {
		t.Errorf("the report quotes the record's data: %v", bad)
	}
	slots := page.Slots()
	if len(slots) != 3 || slots[1].ID != 12 || slots[1].Read || !slots[2].Read {
		t.Errorf("slots = %+v", slots)
	}
}

func TestClient_ListIteratorReportsUnreadable(t *testing.T) {
	ts := serveBody(t, listAnswer)
	c := MustClient(t, ts.URL, crm.Config{})
	var read, bad int
	for _, err := range c.List(t.Context(), crm.ListQuery{}) {
		var re *crm.RecordError
		switch {
		case errors.As(err, &re):
			bad++
		case err != nil:
			t.Fatal(err)
		default:
			read++
		}
	}
	if read != 2 || bad != 1 {
		t.Errorf("read %d, unreadable %d; want 2 and 1", read, bad)
	}
}

func TestTime_Forms(t *testing.T) {
	want := time.Date(2024, 5, 1, 8, 0, 1, 0, time.UTC)
	for in, w := range map[string]time.Time{
		`"2024-05-01T08:00:01Z"`:         want,
		`"2024-05-01T08:00:01.5Z"`:       want.Add(500 * time.Millisecond),
		`"2024-05-01T08:00:01.123456Z"`:  want.Add(123 * time.Millisecond),
		`"2024-05-01T10:00:01+02:00"`:    want,
		`"2024-05-01T10:00:01.250+0200"`: {}, // not ISO-8601 as Go reads it: refused
		`"2024-05-01T08:00:01"`:          want,
		`1714550401000`:                  want,
	} {
		var got crm.Time
		err := json.Unmarshal([]byte(in), &got)
		if w.IsZero() {
			if err == nil {
				t.Errorf("%s read as %s, want an error", in, got)
			}
			continue
		}
		if err != nil || !got.Equal(w) {
			t.Errorf("%s read as %s (%v), want %s", in, got, err, w)
		}
	}
}

// serveBody answers every request with body.
func serveBody(t *testing.T, body string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts
}

// FuzzDecodeCustomer feeds records of any shape to the decoder: it must
// not panic, and what it reads must read back the same once written. The
// seeds (testdata/fuzz/FuzzDecodeCustomer) are shapes a real CRM may
// answer: strings for numbers and booleans, null-only members of other
// types, dates with milliseconds or offsets, unknown members.
func FuzzDecodeCustomer(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := crm.DecodeCustomer(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("write back: %v", err)
		}
		again, err := crm.DecodeCustomer(out)
		if err != nil {
			t.Fatalf("read back %s: %v", out, err)
		}
		out2, _ := json.Marshal(again)
		if string(out) != string(out2) {
			t.Fatalf("read back differs:\n%s\n%s", out, out2)
		}
	})
}
