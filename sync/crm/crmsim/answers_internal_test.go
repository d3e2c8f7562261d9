package crmsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm"
)

// page is the list answer as one value: how handleList wrote it before
// the answers were cached. marshalledPage encodes it.
type page struct {
	Paging paging         `json:"paging"`
	Data   []customerJSON `json:"data"`
}

// marshalledPage is the list answer to query as handleList made it before
// the answers were cached: the page's customers copied from the store,
// dressed and encoded with their paging in one json.Marshal. It is the
// oracle the cached answers are held to, byte for byte.
func marshalledPage(t *testing.T, s *Server, query, version string) []byte {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	f, apiErr := parseListQuery(q)
	if apiErr != nil {
		t.Fatalf("%s: %v", query, apiErr.description)
	}
	if s.opts.MaxPageSize > 0 {
		f.max = min(f.max, s.opts.MaxPageSize)
	}
	// A key no answer is cached under: every customer comes as a copy.
	items, total, _ := s.Store.list(f, "the oracle's")
	p := page{Paging: paging{Total: total, Max: f.max, Offset: f.offset}, Data: make([]customerJSON, len(items))}
	if f.offset > 0 {
		prev := f.link(version, max(0, f.offset-f.max))
		p.Paging.Previous = &prev
	}
	if f.max > 0 && f.max < total-f.offset {
		next := f.link(version, f.offset+f.max)
		p.Paging.Next = &next
	}
	for i, it := range items {
		if it.copy == nil {
			t.Fatalf("the oracle got a cached answer")
		}
		p.Data[i] = s.render(*it.copy, version)
	}
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// served is the body of a GET through the handler.
func served(t *testing.T, s *Server, path string) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	if got, want := w.Header().Get("Content-Length"), fmt.Sprint(w.Body.Len()); got != want {
		t.Errorf("GET %s: Content-Length %s, body of %s bytes", path, got, want)
	}
	return w.Body.Bytes()
}

// pngImage is the smallest content crmsim takes as an image.
var pngImage = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")

// variedStore holds customers meant to exercise every branch of render
// and of the encoder: texts with non-ASCII, HTML and control characters,
// cleared texts, numbers large and small, sub-customers, categories,
// segmentations, creators, payment types, regions or none, logos, raw
// members, and enough plain customers for several pages.
func variedStore(t *testing.T, geo bool) *Store {
	t.Helper()
	seed := DefaultSeed()
	seed.Organization.GeographicalLocations = geo
	st, err := NewStore(seed)
	if err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2016, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	st.Now = func() time.Time { tick = tick.Add(1234567 * time.Microsecond); return tick }
	put := func(ref string, kv ...string) {
		t.Helper()
		values := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			values[kv[i]] = kv[i+1]
		}
		if _, err := st.Put(ref, values); err != nil {
			t.Fatal(err)
		}
	}
	put("A", "name", "Plain")
	put("B", "name", "Zoë 日本 🎉 <b>&amp;</b> \"quoted\" back\\slash\ttab line\u2028sep\u2029 \x01 \x7f",
		"comment", "multi\nline\r\n<script>alert('x')</script>", "email", "zoë@example.com",
		"website", "https://example.com/?a=1&b=<2>", "customerRiskColor", "#ff0000")
	put("C", "name", "All texts", "barcode", "0123", "billingCountry", "France", "billingCity", "Paris",
		"billingPostalCode", "75001", "billingAddress", "1 rue de Rivoli",
		"billingLng", "2.3522", "country", "FR", "city", "Lyon", "postalCode", "69001", "address", "2 quai",
		"latitude", "0.000001", "longitude", "-122.4194", "phone", "+33 1", "mobile", "+33 6", "fax", "+33 9",
		"taxNumber", "FR123", "companyRegistrationNumber", "RCS 1", "customerRisk", "low",
		"creditLimit", "999999999999999", "billingLat", "0.0000001", "isSameAddress", "false")
	put("D", "name", "Cleared", "email", "d@example.com", "phone", "1", "creditLimit", "5")
	put("D", "email", "", "phone", "", "creditLimit", "")
	put("E", "name", "Sub of A", "parentCustomer", "A", "isSubCustomer", "true", "billWithParent", "true")
	put("F", "name", "Related", "regionId", "3", "categoryId", "jewelry", "customerSegmentationId", "seg_a",
		"userId", "emp-002", "paymentTypes", `[{"id":7},{"id":9}]`, "dueDateConfigNumber", "30",
		"dueDateConfigType", "1", "currency", "USD", "onHold", "true", "onHoldReason", "late",
		"isActive", "false", "creditLimit", "1234.5678")
	put("F2", "name", "Sub of F", "parentCustomer", "F", "regionId", "2", "creditLimit", "-0.5")
	if _, _, err := st.Upsert("G", &params{values: map[string]string{"name": "Logo"},
		image: &crm.Image{Filename: "logo <1>.png", Content: pngImage}}, "http://crmsim.example"); err != nil {
		t.Fatal(err.description)
	}
	// Raw members that no write sets: as a CRM's own data would have them,
	// with spaces that encoding/json compacts.
	st.mu.Lock()
	g := st.byRef["G"]
	g.PocTenus = json.RawMessage(`{ "days" : [ 1, 2 ] , "note": "<x>" }`)
	g.AppliedCashBackOutput = json.RawMessage(` 12.50 `)
	g.InvoicesPerRoute = json.RawMessage(`[ ]`)
	g.PaymentTerm = json.RawMessage(`"30 days"`)
	g.Contacts = []json.RawMessage{json.RawMessage(`{"name": "Ann & Bob"}`), json.RawMessage(`null`)}
	big, tiny := 1e21, -2.5e-9
	g.Balance, g.MaxChequeValue = &big, &tiny
	st.mu.Unlock()
	for i := range 120 { // past a page of 100, and of 99 from offset 99
		put(fmt.Sprintf("P%03d", i), "name", fmt.Sprintf("Plain %d", 120-i), "creditLimit", fmt.Sprint(i*7))
	}
	return st
}

// listQueries are the list calls compared: pages, sorts, filters, empty
// and out-of-range pages, the refresh's window.
var listQueries = []string{
	"",
	"max=2&offset=1",
	"max=100&offset=99&sort=id&order=asc",
	"max=1000",
	"max=0",
	"offset=5000",
	"sort=name&order=desc&max=50",
	"sort=creditLimit&order=asc&isActive=true",
	"sort=lastUpdated&order=asc&lastUpdated_gte=2016-01-02T03:05:00Z&max=30&offset=3",
	"reference=P1*&categoryReference=root",
	"name=*%C3%AB*",
}

// compareAll checks every list query in both versions against the oracle.
func compareAll(t *testing.T, s *Server) {
	t.Helper()
	for _, version := range []string{"v1.0", "v2.1"} {
		for _, q := range listQueries {
			got := served(t, s, "/api/"+version+"/customers?"+q)
			if want := marshalledPage(t, s, q, version); !bytes.Equal(got, want) {
				t.Errorf("%s ?%s:\n got %s\nwant %s", version, q, diffAt(got, want), diffAt(want, got))
			}
		}
	}
}

// diffAt shows a where it starts to differ from b.
func diffAt(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("…%s (at byte %d of %d)", a[max(0, i-60):min(len(a), i+60)], i, len(a))
}

// TestAnswers_SameBytes holds the list answers made of cached answers to
// the answers of one json.Marshal of the page, as crmsim wrote them
// before: cold and cached, in two versions (one of which the cache does
// not hold), both date precisions, with and without regions, a page cap,
// after writes that change, rename, unlink and remove customers, and
// after Prerender.
func TestAnswers_SameBytes(t *testing.T) {
	for _, c := range []struct {
		name string
		geo  bool
		opts Options
	}{
		{"seconds", true, Options{}},
		{"milliseconds", true, Options{TimePrecision: "ms"}},
		{"no regions", false, Options{}},
		{"page cap", true, Options{MaxPageSize: 37}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := variedStore(t, c.geo)
			s := New(st, c.opts)
			compareAll(t, s) // renders and caches
			if len(st.answers.m) == 0 {
				t.Fatal("nothing cached")
			}
			compareAll(t, s) // from the cache
			for _, w := range []struct {
				ref    string
				values map[string]string
			}{
				{"A", map[string]string{"name": "Renamed \u00e9"}},
				{"F", map[string]string{"regionId": "", "paymentTypes": "", "categoryId": "retail"}},
				{"P010", map[string]string{"creditLimit": "99999"}},
				{"H", map[string]string{"name": "New <one>", "parentCustomer": "F2"}},
			} {
				if _, err := st.Put(w.ref, w.values); err != nil {
					t.Fatal(err)
				}
			}
			// A reference changed: its sub-customers name it anew.
			if _, err := st.Update(st.byRef["A"].ID, newParams(map[string]string{"reference": "A-new"}), "http://crmsim"); err != nil {
				t.Fatal(err.description)
			}
			if err := st.DeleteByReference("G"); err != nil {
				t.Fatal(err.description)
			}
			if err := st.DeleteByReference("P005"); err != nil {
				t.Fatal(err.description)
			}
			compareAll(t, s)
			compareAll(t, s)
			for c := range st.answers.m {
				if st.byID[c.ID] != c {
					t.Errorf("an answer is kept for %s, removed", c.Reference)
				}
			}

			// A simulator started on the same customers, its answers
			// rendered before the first request.
			s2 := New(variedStore(t, c.geo), c.opts)
			s2.Prerender()
			if got, want := len(s2.Store.answers.m), s2.Store.Len(); got != want {
				t.Errorf("Prerender cached %d answers of %d customers", got, want)
			}
			compareAll(t, s2)
		})
	}
}

// TestAnswers_SubCustomerRenamedParent checks that a sub-customer listed
// from the cache shows its parent's new reference.
func TestAnswers_SubCustomerRenamedParent(t *testing.T) {
	st := variedStore(t, true)
	s := New(st, Options{})
	s.Prerender()
	if _, err := st.Update(st.byRef["A"].ID, newParams(map[string]string{"reference": "A-renamed"}), "http://crmsim"); err != nil {
		t.Fatal(err.description)
	}
	v := crm.DefaultAPIVersion // the version Prerender cached
	body := served(t, s, "/api/"+v+"/customers?reference=E")
	if !strings.Contains(string(body), `"parentCustomer":{"id":1,"reference":"A-renamed","href":"/api/`+v+`/customers/1"}`) {
		t.Errorf("E after its parent's rename: %s", body)
	}
}
