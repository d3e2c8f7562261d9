package crmsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// fuzzRoutes are the calls FuzzParams aims at. The list takes the fuzzed
// query; the writes take the fuzzed body; the shows and deletes take the
// fuzzed text as their last path segment.
var fuzzRoutes = []struct {
	method, path string
	segment      bool // the fuzzed text ends the path
	params       []string
}{
	{"GET", "/api/v1.0/customers", false, listParamNames},
	{"POST", "/api/v1.0/customers", false, createParamNames},
	{"POST", "/api/v1.0/customers/1", false, createParamNames},
	{"POST", "/api/v1.0/customers/reference/NC-3", false, upsertParamNames},
	{"POST", "/api/v1.0/customers/reference/NEW", false, upsertParamNames},
	{"GET", "/api/v1.0/customers/", true, nil},
	{"GET", "/api/v1.0/customers/reference/", true, nil},
	{"DELETE", "/api/v1.0/customers/", true, nil},
	{"DELETE", "/api/v1.0/customers/reference/", true, nil},
}

// The parameters of the reference's tables (11.1, 11.3, 11.5).
var (
	listParamNames = []string{"max", "offset", "order", "sort", "dateCreated_gt", "dateCreated_gte",
		"dateCreated_lt", "dateCreated_lte", "lastUpdated_gt", "lastUpdated_gte", "lastUpdated_lt",
		"lastUpdated_lte", "reference", "name", "categoryReference", "isActive"}
	upsertParamNames = []string{"name", "barcode", "isActive", "categoryId", "isSubCustomer", "parentCustomer",
		"billWithParent", "customerSegmentationId", "userId", "isSameAddress", "billingCountry", "billingCity",
		"billingPostalCode", "billingAddress", "billingLat", "billingLng", "country", "city", "postalCode",
		"address", "latitude", "longitude", "email", "phone", "mobile", "fax", "comment", "website",
		"creditLimit", "dueDateConfigNumber", "dueDateConfigType", "taxNumber", "companyRegistrationNumber",
		"currency", "imageFile", "paymentTypes", "regionId", "customerRisk", "customerRiskColor", "onHold",
		"onHoldReason"}
	// update takes create's parameters (crmsim takes useExternalId there too).
	createParamNames = append([]string{"reference", "reference2", "useExternalId"}, upsertParamNames...)
)

// FuzzParams throws arbitrary query strings, bodies (urlencoded, or raw
// bytes under a multipart content type) and path segments at the
// simulator, with no faults injected. The answer must never be a panic
// or a 5xx; it is a JSON object, 200/201 or a 4xx with error and
// error_description; a query or body that cannot be decoded, or that
// names a parameter outside the reference's table, is a 4xx; and a
// refused call changes nothing.
func FuzzParams(f *testing.F) {
	const (
		form = "application/x-www-form-urlencoded"
		mp   = "multipart/form-data; boundary=B"
	)
	part := func(name, value string) string {
		return "--B\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n"
	}
	for _, seed := range []struct {
		route       uint8
		text        string
		body        string
		contentType string
	}{
		{0, "max=2&offset=2&sort=dateCreated&order=asc", "", ""},
		{0, "dateCreated_gta=2016-08-16T09:02:13Z", "", ""},
		{0, "lastUpdated_gte=2016-08-1Z&reference=*ef-6*", "", ""},
		{0, "categoryReference=Ref-6*&name=*a*&isActive=false&sort=lastUpdated&order=desc", "", ""},
		{0, "offset=9223372036854775807", "", ""}, // panicked: offset+max overflowed
		{0, "max=1;offset=2&%zz", "", ""},         // was answered 200 without its max
		{1, "", "reference=NC-9&name=Marie&paymentTypes=[{\"id\"=7},{\"id\"=8}]&creditLimit=5000", form},
		{1, "", "reference=X&name=X&useExternalId=true&parentCustomer=X&isSubCustomer=true", form},
		{2, "", "reference=&name=X&colour=red", form},
		{2, "", "dueDateConfigType=2&dueDateConfigNumber=-1&creditLimit=NaN&billingLat=1e309", form},
		{3, "", "paymentTypes=[{\"id\":1e309}]&currency=GmBP", form},
		{3, "", "name=X&parentCustomer=NC-3", "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8"},
		{4, "", part("name", "New") + "--B\r\nContent-Disposition: form-data; name=\"imageFile\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n\x1a\n\r\n--B--\r\n", mp},
		{4, "", part("name", "New") + part("imageFile", "not a file") + "--B--\r\n", mp},
		{4, "", part("name", "X") + "--", mp},
		{4, "", part("name", "X") + "--B--\r\n", "Multipart/Form-Data; boundary=B"},
		{3, "", part("name", "X") + "--B--\r\n", "multipart/mixed; boundary=B"},
		{5, "9223372036854775808", "", ""},
		{6, "NC-3", "", ""},
		{7, "-1", "", ""},
		{8, "PARENT", "", ""},
	} {
		f.Add(seed.route, seed.text, []byte(seed.body), seed.contentType)
	}
	f.Fuzz(func(t *testing.T, route uint8, text string, body []byte, contentType string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if r.segment && (strings.Contains(text, "/") || text == "." || text == "..") {
			return // the mux cleans such paths with a redirect before any handler runs
		}
		store, err := crmsim.NewStore(crmsim.DefaultSeed())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ ref, parent string }{{"NC-3", ""}, {"PARENT", ""}, {"CHILD", "PARENT"}} {
			if _, err := store.Put(c.ref, map[string]string{"name": c.ref, "parentCustomer": c.parent}); err != nil {
				t.Fatal(err)
			}
		}
		h := crmsim.New(store, crmsim.Options{})
		before := serve(t, h, httptest.NewRequest("GET", "/api/v1.0/customers", nil)).Body.String()

		req := httptest.NewRequest(r.method, "/", bytes.NewReader(body))
		req.URL.Path = r.path
		switch {
		case r.segment:
			req.URL.Path += text
			req.URL.RawPath = r.path + url.PathEscape(text)
		case r.method == "GET":
			req.URL.RawQuery = text
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		w := serve(t, h, req)
		what := r.method + " " + req.URL.String() + " " + strconv.Quote(contentType) + " " + strconv.Quote(string(body))

		if w.Code >= 500 || (w.Code >= 300 && w.Code < 400) || (w.Code < 400 && w.Code != 200 && w.Code != 201) {
			t.Fatalf("%s: %d %s", what, w.Code, w.Body)
		}
		var answer map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%s: answer is not a JSON object: %q", what, w.Body)
		}
		if w.Code >= 400 {
			code, _ := answer["error"].(string)
			description, _ := answer["error_description"].(string)
			if code == "" || description == "" || len(answer) != 2 {
				t.Fatalf("%s: error answer %s", what, w.Body)
			}
			if after := serve(t, h, httptest.NewRequest("GET", "/api/v1.0/customers", nil)).Body.String(); after != before {
				t.Fatalf("%s: refused with %d, yet the customers changed", what, w.Code)
			}
		}

		// Garbage: what the reference's tables do not name, or what cannot
		// be decoded, is refused.
		var names []string
		garbage := false
		switch {
		case r.method == "GET" && !r.segment:
			q, err := url.ParseQuery(text)
			garbage = err != nil
			for k := range q {
				names = append(names, k)
			}
		case r.method == "POST":
			names, garbage = bodyNames(contentType, body)
		}
		unknown := slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(r.params, n) })
		if garbage && w.Code < 400 {
			t.Fatalf("%s: undecodable, yet answered %d %s", what, w.Code, w.Body)
		}
		if !garbage && unknown && (w.Code != 400 || answer["error"] != "invalid_param") {
			t.Fatalf("%s: parameters %v outside the reference's table, yet answered %d %s", what, names, w.Code, w.Body)
		}
		if w.Code == 200 && r.method == "GET" && !r.segment {
			paging, _ := answer["paging"].(map[string]any)
			data, _ := answer["data"].([]any)
			if paging == nil || answer["data"] == nil || float64(len(data)) > paging["max"].(float64) || float64(len(data)) > paging["total"].(float64) {
				t.Fatalf("%s: page %s", what, w.Body)
			}
		}
		if (w.Code == 200 || w.Code == 201) && r.method == "POST" {
			if _, ok := answer["id"]; !ok || len(answer) != len(customerKeysWithRegion) {
				t.Fatalf("%s: customer %s", what, w.Body)
			}
		}
	})
}

func serve(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// bodyNames returns the parameter names of a write's body as the
// content type says to read it, and whether it cannot be read so.
// Bodies of other content types carry no parameters.
func bodyNames(contentType string, body []byte) (names []string, garbage bool) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	switch {
	case strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "multipart/"):
		if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
			return nil, true
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return names, false
			}
			if err != nil {
				return nil, true
			}
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, true
			}
			if name := p.FormName(); name != "" {
				names = append(names, name)
			}
		}
	case mediaType == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, true
		}
		for k := range q {
			names = append(names, k)
		}
		return names, false
	case err != nil && contentType != "":
		return nil, false // an unreadable content type: crmsim reads no body, or refuses it
	}
	return nil, false
}
