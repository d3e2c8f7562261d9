package crmsim

import (
	"encoding/json"
	"strings"
	"testing"

	"erpsync/sync/crm"
)

// TestRender_ParentMember: parentCustomer is answered null, as the link
// object, or (Quirks.ParentShape "id") as the bare id; and encoding it
// costs no allocation of its own. Every upsert's answer and every customer
// of a listing not cached is encoded: with a MarshalJSON method, the
// member cost an encoder, a copy and a validation of its output, most of
// them "null" (issue 22), 7 allocations an answer where 6 are left.
func TestRender_ParentMember(t *testing.T) {
	store, err := NewStore(DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	c := crm.Customer{ID: 7, Reference: "K-7", Name: "Seven"}
	for _, tc := range []struct {
		shape  string
		parent *crm.CustomerLink
		want   string
	}{
		{"", nil, `"parentCustomer":null`},
		{"id", nil, `"parentCustomer":null`},
		{"", &crm.CustomerLink{ID: 3, Reference: "P-3"}, `"parentCustomer":{"id":3,"reference":"P-3","href":"/api/v1.0/customers/3"}`},
		{"id", &crm.CustomerLink{ID: 3, Reference: "P-3"}, `"parentCustomer":3,`},
	} {
		s := New(store, Options{Quirks: Quirks{ParentShape: tc.shape}})
		c.ParentCustomer = tc.parent
		body, err := json.Marshal(s.render(c, "v1.0"))
		if err != nil || !strings.Contains(string(body), tc.want) {
			t.Errorf("shape %q, parent %v: %s (%v); want %s in it", tc.shape, tc.parent, body, err, tc.want)
		}
	}
	if raceEnabled {
		return // the detector's own allocations
	}
	s := New(store, Options{})
	c.ParentCustomer = nil
	w := s.render(c, "v1.0")
	if n := testing.AllocsPerRun(200, func() { _, _ = json.Marshal(w) }); n > 6 {
		t.Errorf("%v allocations to encode an answer, want at most 6", n)
	}
}
