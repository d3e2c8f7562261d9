package crm

import (
	"net/http"
	"testing"
	"time"
)

// TestNoteDeprecation_NoAllocation: reading an answer for a deprecation
// warning, as every answer is, allocates nothing when there is none (it
// cost an allocation a call: the string kept escaped, found or not).
func TestNoteDeprecation_NoAllocation(t *testing.T) {
	c, err := NewClient(Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	a := &answer{status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"id":1}`)}
	c.noteDeprecation(a) // the body is searched once
	if n := testing.AllocsPerRun(1000, func() { c.noteDeprecation(a) }); n != 0 {
		t.Errorf("%v allocations an answer without a deprecation, want 0", n)
	}
	a.header.Set("Warning", `299 - "deprecated_version v1.0"`)
	c.noteDeprecation(a)
	if got := c.Deprecation(); got != `299 - "deprecated_version v1.0"` {
		t.Errorf("Deprecation() = %q", got)
	}
}

// TestTimeUnmarshal_NoAllocation: the dates of every answer (dateCreated,
// lastUpdated: two a customer) are read without an allocation; they were
// first tried as milliseconds, and the failed ParseInt's error cost two.
func TestTimeUnmarshal_NoAllocation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{`"2026-12-06T10:11:12Z"`, time.Date(2026, 12, 6, 10, 11, 12, 0, time.UTC)},
		{`"2026-12-06T10:11:12.345+01:00"`, time.Date(2026, 12, 6, 9, 11, 12, 345e6, time.UTC)},
		{`1796551872000`, time.UnixMilli(1796551872000).UTC()},
		{`null`, time.Time{}},
	} {
		var tm Time
		if err := tm.UnmarshalJSON([]byte(tc.in)); err != nil || !tm.Equal(tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.in, tm, err, tc.want)
		}
	}
	b := []byte(`"2026-12-06T10:11:12Z"`)
	var tm Time
	if n := testing.AllocsPerRun(1000, func() { _ = tm.UnmarshalJSON(b) }); n != 0 {
		t.Errorf("%v allocations a date, want 0", n)
	}
}
