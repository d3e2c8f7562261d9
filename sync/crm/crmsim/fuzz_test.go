package crmsim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// FuzzParams throws arbitrary query strings and bodies at every call of
// the simulator: it must never panic, always answer JSON, and answer
// garbage with a 4xx, never a 5xx (no faults are injected here).
func FuzzParams(f *testing.F) {
	for _, seed := range []struct {
		route       uint8
		query, body string
		contentType string
	}{
		{0, "max=2&offset=2&sort=dateCreated&order=asc", "", ""},
		{0, "lastUpdated_gte=2016-08-1Z&reference=*ef-6*", "", ""},
		{0, "max=-1&isActive=maybe&%zz", "", ""},
		{1, "", "reference=NC-3&name=Marie&paymentTypes=[{\"id\"=7},{\"id\"=8}]&creditLimit=5000", "application/x-www-form-urlencoded"},
		{2, "", "name=X&parentCustomer=X&isSubCustomer=true", "application/x-www-form-urlencoded"},
		{2, "", "name=X&dueDateConfigType=3&creditLimit=NaN&paymentTypes=[{\"id\":1e309}]", "application/x-www-form-urlencoded"},
		{3, "", "--B\r\nContent-Disposition: form-data; name=\"imageFile\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n--B--\r\n", "multipart/form-data; boundary=B"},
		{3, "", "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nX\r\n--", "multipart/form-data; boundary=B"},
		{4, "", "", ""},
	} {
		f.Add(seed.route, seed.query, seed.body, seed.contentType)
	}
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		f.Fatal(err)
	}
	h := crmsim.New(store, crmsim.Options{})
	if _, err := store.Put("NC-3", map[string]string{"name": "Marie"}); err != nil {
		f.Fatal(err)
	}
	routes := []struct{ method, path string }{
		{"GET", "/api/v1.0/customers"},
		{"POST", "/api/v1.0/customers"},
		{"POST", "/api/v1.0/customers/reference/FUZZ"},
		{"POST", "/api/v1.0/customers/1"},
		{"DELETE", "/api/v1.0/customers/reference/NOPE"},
	}
	f.Fuzz(func(t *testing.T, route uint8, query, body, contentType string) {
		r := routes[int(route)%len(routes)]
		req := httptest.NewRequest(r.method, "/", strings.NewReader(body))
		req.URL.Path = r.path
		req.URL.RawQuery = query
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%q body %q: %d %s", r.method, r.path, query, body, w.Code, w.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("answer is not JSON: %q", w.Body)
		}
		if w.Code >= 400 && (v["error"] == nil || v["error_description"] == nil) {
			t.Fatalf("error answer without error/error_description: %s", w.Body)
		}
		if w.Code != http.StatusOK && w.Code != http.StatusCreated && w.Code < 400 {
			t.Fatalf("unexpected status %d", w.Code)
		}
	})
}
