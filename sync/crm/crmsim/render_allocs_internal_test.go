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

// TestPrerender_ClientVersion: a simulator started with a seed caches its
// customers' answers in the API version erpsync's client asks by
// default, so that a listing by that client (reconcile, adopt, a full
// check) is answered from the cache. It cached the first version served,
// v1.0, after the client's default became v2.1: every page was rendered
// at every request (issue 22: BenchmarkReconcile1M's listing 1.26-1.35×
// its ideal, 1.09-1.12× before).
func TestPrerender_ClientVersion(t *testing.T) {
	s := New(variedStore(t, true), Options{})
	s.Prerender()
	key := answerKey(crm.DefaultAPIVersion, s.layout)
	for _, c := range s.Store.byID {
		if s.Store.answers.get(key, c) == nil {
			t.Fatalf("%s: no answer cached in %s (the cache holds %q)", c.Reference, crm.DefaultAPIVersion, s.Store.answers.key)
		}
	}
	body := served(t, s, "/api/"+crm.DefaultAPIVersion+"/customers?max=1000")
	if !strings.Contains(string(body), `"href":"/api/`+crm.DefaultAPIVersion+`/customers/`) {
		t.Errorf("the listing is not in %s: %.300s", crm.DefaultAPIVersion, body)
	}
	// A simulator that does not serve it caches the first version it does.
	s = New(variedStore(t, true), Options{Versions: []string{"v1.0"}})
	s.Prerender()
	if want := answerKey("v1.0", s.layout); s.Store.answers.key != want {
		t.Errorf("cache key %q, want %q", s.Store.answers.key, want)
	}
}
