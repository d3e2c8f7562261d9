package crmsim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

// sim is a crmsim on loopback for one test, with a clock the test drives.
type sim struct {
	t     *testing.T
	store *crmsim.Store
	srv   *httptest.Server
	now   time.Time
}

func newSim(t *testing.T, seed crmsim.Seed, opts crmsim.Options) *sim {
	t.Helper()
	store, err := crmsim.NewStore(seed)
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{t: t, store: store, now: time.Date(2015, 12, 17, 23, 0, 0, 0, time.UTC)}
	store.Now = func() time.Time { return s.now }
	s.srv = httptest.NewServer(crmsim.New(store, opts))
	t.Cleanup(s.srv.Close)
	return s
}

// answer is a decoded HTTP answer.
type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (s *sim) do(method, path string, form url.Values) answer {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return s.send(req)
}

func (s *sim) send(req *http.Request) answer {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		s.t.Fatalf("%s %s: answer is not a JSON object: %q", req.Method, req.URL.Path, raw)
	}
	return a
}

func (s *sim) multipart(path string, fields map[string]string, filename string, content []byte) answer {
	s.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	part, _ := w.CreateFormFile("imageFile", filename)
	part.Write(content)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return s.send(req)
}

func (a answer) wantError(t *testing.T, status int, code, description string) {
	t.Helper()
	if a.status != status || a.body["error"] != code {
		t.Fatalf("got %d %v, want %d %s; body %s", a.status, a.body["error"], status, code, a.raw)
	}
	if description != "" && a.body["error_description"] != description {
		t.Errorf("error_description = %q, want %q", a.body["error_description"], description)
	}
}

const api = "/api/v1.0/customers"

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// referenceKeys returns the keys of the reference's Show example, in
// order, read from the reference text itself.
func referenceKeys(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../../../shared/reference/customers-api-v2.1.txt")
	if err != nil {
		t.Fatalf("the API reference: %v", err)
	}
	text := string(data)
	start := strings.Index(text, "11.2 Show")
	end := strings.Index(text[start:], `"lastUpdated"`)
	example := text[start : start+end+len(`"lastUpdated":`)]
	example = example[strings.Index(example, "Success case"):]
	var keys []string
	depth := 0
	for _, line := range strings.Split(example, "\n") {
		line = strings.TrimSpace(line)
		if m := regexp.MustCompile(`^"(\w+)":`).FindStringSubmatch(line); m != nil && depth == 1 {
			keys = append(keys, m[1])
		}
		depth += strings.Count(line, "{") - strings.Count(line, "}")
		depth += strings.Count(line, "[") - strings.Count(line, "]")
		if strings.HasSuffix(line, "{") && strings.Contains(line, "Success case") {
			depth = 1
		}
	}
	return keys
}

// topKeys returns the top-level keys of a JSON object in order.
func topKeys(t *testing.T, raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// marie is the reference's example customer as upsert parameters.
func marie() url.Values {
	return vals("name", "Marie's Jewelry", "categoryId", "jewelry", "customerSegmentationId", "seg_a",
		"userId", "emp-002", "billingCountry", "FR", "billingCity", "Nice", "creditLimit", "5000",
		"billWithParent", "true", "dueDateConfigType", "1", "dueDateConfigNumber", "7",
		"paymentTypes", `[{"id"=7},{"id"=8}]`, "regionId", "3")
}

func TestConformance_Upsert(t *testing.T) {
	s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{})
	a := s.do("POST", api+"/reference/NC-3", marie())
	if a.status != http.StatusCreated {
		t.Fatalf("upsert create: %d %s", a.status, a.raw)
	}
	keys := referenceKeys(t)
	if len(keys) != 58 || keys[0] != "id" || keys[57] != "lastUpdated" {
		t.Fatalf("read only %d keys from the reference: %v", len(keys), keys)
	}
	got := topKeys(t, a.raw)
	if want := append(slices.Clone(keys), "region"); !slices.Equal(got, want) {
		t.Errorf("keys differ from the reference's example\n got %v\nwant %v", got, want)
	}
	for k, want := range map[string]any{
		"reference": "NC-3", "name": "Marie's Jewelry", "categoryReference": "jewelry", "isSubCustomer": false,
		"billWithParent": true, "customerSegmentationReference": "seg_a", "billingCountry": "FR",
		"creditLimit": 5000.0, "isActive": true, "onHold": false, "isSameAddress": true,
		"dueDateConfigNumber": 7.0, "dueDateConfigType": "daysAfterInvoiceDate", "currency": "EUR",
		"organization": "entity1", "dateCreated": "2015-12-17T23:00:00Z", "lastUpdated": "2015-12-17T23:00:00Z",
		"parentCustomer": nil, "email": nil,
	} {
		if got := a.body[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if cat := a.body["customerCategory"].(map[string]any); cat["href"] != "/api/v1.0/customerCategories/2" || cat["name"] != "Jewelry and accessories" {
		t.Errorf("customerCategory = %v", cat)
	}
	if by := a.body["createdBy"].(map[string]any); by["userId"] != 2.0 || by["href"] != "/api/v1.0/users/2" {
		t.Errorf("createdBy = %v", by)
	}
	pts := a.body["paymentTypes"].([]any)
	if len(pts) != 2 || pts[1].(map[string]any)["reference"] != "cheque" || pts[0].(map[string]any)["href"] != "/api/v1.0/paymentTypes/7" {
		t.Errorf("paymentTypes = %v", pts)
	}
	if reg := a.body["region"].(map[string]any); reg["name"] != "New York" || reg["href"] != "/api/v1.0/regions/3" {
		t.Errorf("region = %v", reg)
	}

	t.Run("same values: 200, lastUpdated unchanged", func(t *testing.T) {
		s.now = s.now.Add(time.Hour)
		a := s.do("POST", api+"/reference/NC-3", marie())
		if a.status != http.StatusOK || a.body["lastUpdated"] != "2015-12-17T23:00:00Z" {
			t.Errorf("%d lastUpdated %v", a.status, a.body["lastUpdated"])
		}
	})
	t.Run("a changed value moves lastUpdated", func(t *testing.T) {
		s.now = time.Date(2016, 8, 16, 9, 2, 13, 0, time.UTC)
		a := s.do("POST", api+"/reference/NC-3", vals("creditLimit", "6000"))
		if a.status != http.StatusOK || a.body["lastUpdated"] != "2016-08-16T09:02:13Z" || a.body["dateCreated"] != "2015-12-17T23:00:00Z" {
			t.Errorf("%d %v / %v", a.status, a.body["lastUpdated"], a.body["dateCreated"])
		}
		if a.body["name"] != "Marie's Jewelry" {
			t.Errorf("a partial upsert lost the name: %v", a.body["name"])
		}
	})
	t.Run("JSON payment types", func(t *testing.T) {
		a := s.do("POST", api+"/reference/NC-3", vals("paymentTypes", `[{"id":9}]`))
		if pts := a.body["paymentTypes"].([]any); len(pts) != 1 || pts[0].(map[string]any)["id"] != 9.0 {
			t.Errorf("paymentTypes = %v", pts)
		}
	})
	t.Run("due date type 2", func(t *testing.T) {
		a := s.do("POST", api+"/reference/NC-3", vals("dueDateConfigType", "2", "dueDateConfigNumber", "30"))
		if a.body["dueDateConfigType"] != "daysAfterEndOfInvoiceMonth" {
			t.Errorf("dueDateConfigType = %v", a.body["dueDateConfigType"])
		}
	})
}

func TestConformance_Errors(t *testing.T) {
	s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{})
	s.do("POST", api+"/reference/NC-3", marie())
	s.do("POST", api+"/reference/PARENT", vals("name", "Parent"))
	s.do("POST", api+"/reference/CHILD", vals("name", "Child", "parentCustomer", "PARENT"))
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...)

	for _, tc := range []struct {
		name        string
		do          func() answer
		status      int
		code, descr string
	}{
		{"list: unknown parameter", func() answer { return s.do("GET", api+"?dateCreated_gta=2016-01-01T00:00:00Z", nil) },
			400, "invalid_param", "The parameters [dateCreated_gta] you provided are not valid for this request."},
		{"list: bad datetime", func() answer { return s.do("GET", api+"?lastUpdated_gte=2016-08-1Z", nil) },
			400, "invalid_datetime_format", "Invalid datetime filter (not ISO-8601 formatted): [2016-08-1Z]"},
		{"show: id not a number", func() answer { return s.do("GET", api+"/abc", nil) },
			400, "invalid_param_type", "The type of parameter id you provided is not valid for this request."},
		{"show: missing", func() answer { return s.do("GET", api+"/2559", nil) },
			404, "not_found", "The customer with the id 2559 doesn't exist."},
		{"show by reference: missing", func() answer { return s.do("GET", api+"/reference/NOPE", nil) },
			404, "not_found", "The customer with the id NOPE doesn't exist."},
		{"create: reference missing", func() answer { return s.do("POST", api, vals("name", "X")) },
			400, "missing_param", "reference parameter is missing"},
		{"create: name missing", func() answer { return s.do("POST", api, vals("reference", "X")) },
			400, "missing_param", "name parameter is missing"},
		{"create: reference used", func() answer { return s.do("POST", api, vals("reference", "NC-3", "name", "X")) },
			400, "not_unique", "reference already used"},
		{"create: payment type id not a number", func() answer {
			return s.do("POST", api, vals("reference", "X", "name", "X", "paymentTypes", `[{"id"="cash"}]`))
		}, 400, "invalid_param_type", "The type of parameter payment type id you provided is not valid for this request."},
		{"create: payment type missing", func() answer {
			return s.do("POST", api, vals("reference", "X", "name", "X", "paymentTypes", `[{"id"=999}]`))
		}, 404, "not_found", "The payment type with the id 999 doesn't exist."},
		{"create: unknown currency", func() answer { return s.do("POST", api, vals("reference", "X", "name", "X", "currency", "GmBP")) },
			404, "not_found", "The currency with name GmBP doesn't exist."},
		{"create: currency not configured", func() answer { return s.do("POST", api, vals("reference", "X", "name", "X", "currency", "GBP")) },
			404, "not_found", "The currency with name GBP is not configured."},
		{"create: parent missing", func() answer {
			return s.do("POST", api, vals("reference", "X", "name", "X", "isSubCustomer", "true", "parentCustomer", "188911"))
		}, 404, "not_found", "The parent customer with the id 188911 doesn't exist."},
		{"create: image too large", func() answer {
			return s.multipart(api, map[string]string{"reference": "X", "name": "X"}, "big.png", append(png, make([]byte, 2<<20)...))
		}, 400, "exceeded_file_size", "image size should not exceed 2Mo"},
		{"create: image not supported", func() answer {
			return s.multipart(api, map[string]string{"reference": "X", "name": "X"}, "x.svg", []byte("<svg/>"))
		}, 400, "unsupported_file_type", "image format not supported."},
		{"update: missing", func() answer { return s.do("POST", api+"/2559", vals("name", "X")) },
			404, "not_found", "The customer with the id 2559 doesn't exist."},
		{"update: its own parent", func() answer {
			return s.do("POST", api+"/1", vals("parentCustomer", "1", "isSubCustomer", "true"))
		}, 404, "not_found", "The customer cannot be a subcustomer of itself."},
		{"update: reference used", func() answer { return s.do("POST", api+"/2", vals("reference", "NC-3")) },
			400, "not_unique", "reference already used"},
		{"update: payment type missing", func() answer { return s.do("POST", api+"/1", vals("paymentTypes", `[{"id":999}]`)) },
			404, "not_found", "The payment type with the id 999 doesn't exist."},
		{"upsert: name missing on create", func() answer { return s.do("POST", api+"/reference/NEW", vals("city", "Nice")) },
			400, "missing_param", "name parameter is missing"},
		{"upsert: bad boolean", func() answer { return s.do("POST", api+"/reference/NC-3", vals("isActive", "maybe")) },
			400, "invalid_param_type", "The type of parameter isActive you provided is not valid for this request."},
		{"upsert: unknown parameter", func() answer { return s.do("POST", api+"/reference/NC-3", vals("colour", "red")) },
			400, "invalid_param", "The parameters [colour] you provided are not valid for this request."},
		{"upsert: parent cycle", func() answer { return s.do("POST", api+"/reference/PARENT", vals("parentCustomer", "CHILD")) },
			400, "save_failed", "Failed to save instance."},
		{"upsert: due type without number", func() answer { return s.do("POST", api+"/reference/NEW", vals("name", "N", "dueDateConfigType", "1")) },
			400, "missing_param", "dueDateConfigNumber parameter is missing"},
		{"delete: id not a number", func() answer { return s.do("DELETE", api+"/abc", nil) },
			400, "invalid_param_type", "The type of parameter id you provided is not valid for this request."},
		{"delete: missing", func() answer { return s.do("DELETE", api+"/32987", nil) },
			404, "not_found", "The customer with the id 32987 doesn't exist."},
		{"delete: has sub-customers", func() answer { return s.do("DELETE", api+"/reference/PARENT", nil) },
			400, "delete_failed", "Failed to delete instance."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.do().wantError(t, tc.status, tc.code, tc.descr)
		})
	}

	t.Run("server error", func(t *testing.T) {
		f := newSim(t, crmsim.DefaultSeed(), crmsim.Options{FailRate: 1})
		f.do("GET", api, nil).wantError(t, 500, "server_error", "Oops! Something went wrong...")
	})
	t.Run("throttled", func(t *testing.T) {
		f := newSim(t, crmsim.DefaultSeed(), crmsim.Options{ThrottleRate: 1})
		a := f.do("GET", api, nil)
		a.wantError(t, 429, "too_many_requests", "")
		if a.header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q", a.header.Get("Retry-After"))
		}
	})
	t.Run("token", func(t *testing.T) {
		f := newSim(t, crmsim.DefaultSeed(), crmsim.Options{Token: "right"})
		f.do("GET", api, nil).wantError(t, 401, "invalid_token", "")
		req, _ := http.NewRequest("GET", f.srv.URL+api, nil)
		req.Header.Set("Authorization", "Bearer right")
		if a := f.send(req); a.status != 200 {
			t.Errorf("right token: %d", a.status)
		}
	})
}

func TestConformance_CreateUpdateDelete(t *testing.T) {
	s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{})
	a := s.do("POST", api, vals("reference", "NC-3", "name", "Marie's Jewelry", "categoryId", "2", "userId", "2", "currency", "USD", "regionId", "3"))
	if a.status != 201 || a.body["categoryReference"] != "jewelry" || a.body["currency"] != "USD" {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	if a := s.do("POST", api, vals("reference", "X", "name", "X", "categoryId", "jewelry")); a.status != 400 {
		t.Errorf("create with a reference as categoryId: %d, want 400 (numeric ids unless useExternalId)", a.status)
	}
	a = s.do("POST", api, vals("reference", "NC-4", "name", "Sub", "useExternalId", "true", "parentCustomer", "NC-3", "isSubCustomer", "true", "categoryId", "retail"))
	if a.status != 201 || a.body["isSubCustomer"] != true || a.body["parentCustomer"].(map[string]any)["reference"] != "NC-3" {
		t.Fatalf("create with external ids: %d %s", a.status, a.raw)
	}
	id := fmt.Sprint(a.body["id"])
	a = s.do("POST", api+"/"+id, vals("email", "shop@example.com", "isSubCustomer", "false"))
	if a.status != 200 || a.body["email"] != "shop@example.com" || a.body["parentCustomer"] != nil || a.body["name"] != "Sub" {
		t.Errorf("partial update: %d %s", a.status, a.raw)
	}
	a = s.multipart(api+"/reference/NC-4", map[string]string{"name": "Sub"}, "logo.gif", []byte("GIF89a......"))
	if a.status != 200 || !strings.Contains(fmt.Sprint(a.body["logo"]), "/entity1-1450169988465/photoCustomer/") {
		t.Errorf("image: %d logo %v", a.status, a.body["logo"])
	}
	for _, img := range [][]byte{{0xFF, 0xD8, 0xFF, 0xE0}, []byte("BM......"), []byte("\x89PNG\r\n\x1a\n..")} {
		if a := s.multipart(api+"/reference/NC-4", map[string]string{}, "x.bin", img); a.status != 200 {
			t.Errorf("image %q: %d %s", img[:2], a.status, a.raw)
		}
	}
	a = s.do("DELETE", api+"/"+id, nil)
	if a.status != 200 || a.body["success"] != "true" || a.body["success_description"] != "Instance deleted successfully" {
		t.Errorf("delete: %d %s", a.status, a.raw)
	}
	if a := s.do("DELETE", api+"/reference/NC-3", nil); a.status != 200 {
		t.Errorf("delete by reference: %d %s", a.status, a.raw)
	}
	if a := s.do("GET", api+"/reference/NC-3", nil); a.status != 404 {
		t.Errorf("after delete: %d", a.status)
	}
}

func TestConformance_List(t *testing.T) {
	s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{})
	for i, ref := range []string{"Ref-60", "Ref-61", "XRef-62", "NC-3", "ef-6"} {
		s.now = time.Date(2016, 1, 1+i, 0, 0, 0, 0, time.UTC)
		cat := []string{"jewelry", "retail"}[i%2]
		active := fmt.Sprint(i != 4)
		if a := s.do("POST", api+"/reference/"+ref, vals("name", "Name "+ref, "categoryId", cat, "isActive", active)); a.status != 201 {
			t.Fatalf("seed %s: %s", ref, a.raw)
		}
	}
	refs := func(a answer) string {
		var out []string
		for _, c := range a.body["data"].([]any) {
			out = append(out, c.(map[string]any)["reference"].(string))
		}
		return strings.Join(out, ",")
	}

	a := s.do("GET", api+"?max=2", nil)
	paging := a.body["paging"].(map[string]any)
	if paging["total"] != 5.0 || paging["max"] != 2.0 || paging["offset"] != 0.0 || paging["previous"] != nil ||
		paging["next"] != "/api/v1.0/customers?max=2&offset=2&sort=dateCreated&order=asc" {
		t.Errorf("paging = %v", paging)
	}
	if refs(a) != "Ref-60,Ref-61" {
		t.Errorf("first page = %s", refs(a))
	}
	a = s.do("GET", api+"?max=2&offset=2", nil)
	paging = a.body["paging"].(map[string]any)
	if paging["previous"] != "/api/v1.0/customers?max=2&offset=0&sort=dateCreated&order=asc" || refs(a) != "XRef-62,NC-3" {
		t.Errorf("second page %s, paging %v", refs(a), paging)
	}
	if a := s.do("GET", api, nil); a.body["paging"].(map[string]any)["max"] != 100.0 {
		t.Errorf("default max = %v", a.body["paging"])
	}

	for _, tc := range []struct{ query, want string }{
		{"reference=*ef-6*", "Ref-60,Ref-61,XRef-62,ef-6"},
		{"reference=Ref-6*", "Ref-60,Ref-61"},
		{"reference=*ef-6", "ef-6"},
		{"reference=NC-3", "NC-3"},
		{"name=Name%20X*", "XRef-62"},
		{"categoryReference=jew*", "Ref-60,XRef-62,ef-6"},
		{"isActive=false", "ef-6"},
		{"dateCreated_gt=2016-01-03T00:00:00Z", "NC-3,ef-6"},
		{"dateCreated_gte=2016-01-03T00:00:00Z", "XRef-62,NC-3,ef-6"},
		{"dateCreated_lt=2016-01-02T00:00:00Z", "Ref-60"},
		{"dateCreated_lte=2016-01-02T00:00:00Z", "Ref-60,Ref-61"},
		{"lastUpdated_gte=2016-01-04T00:00:00Z&lastUpdated_lte=2016-01-04T00:00:00Z", "NC-3"},
		{"lastUpdated_gt=2016-01-04T00:00:00Z", "ef-6"},
		{"lastUpdated_lt=2016-01-02T00:00:00Z", "Ref-60"},
		{"sort=reference&order=desc", "ef-6,XRef-62,Ref-61,Ref-60,NC-3"},
		{"sort=lastUpdated&order=desc&max=2", "ef-6,NC-3"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			a := s.do("GET", api+"?"+tc.query, nil)
			if a.status != 200 || refs(a) != tc.want {
				t.Errorf("%d %s, want %s", a.status, refs(a), tc.want)
			}
		})
	}
	t.Run("next link keeps the filters", func(t *testing.T) {
		a := s.do("GET", api+"?max=1&reference=Ref-6*&isActive=true", nil)
		if next := a.body["paging"].(map[string]any)["next"]; next != "/api/v1.0/customers?max=1&offset=1&sort=dateCreated&order=asc&reference=Ref-6%2A&isActive=true" {
			t.Errorf("next = %v", next)
		}
	})
	for _, q := range []string{"max=ten", "offset=-1", "order=up", "sort=colour", "isActive=perhaps"} {
		t.Run("bad "+q, func(t *testing.T) {
			s.do("GET", api+"?"+q, nil).wantError(t, 400, "invalid_param_type", "")
		})
	}
}

func TestConformance_NoGeographicalLocations(t *testing.T) {
	seed := crmsim.DefaultSeed()
	seed.Organization.GeographicalLocations = false
	s := newSim(t, seed, crmsim.Options{})
	a := s.do("POST", api+"/reference/NC-3", vals("name", "X"))
	if _, present := a.body["region"]; present {
		t.Errorf("region present with geographical locations off: %s", a.raw)
	}
	seed.Organization.GeographicalLocations = true
	s = newSim(t, seed, crmsim.Options{})
	a = s.do("POST", api+"/reference/NC-3", vals("name", "X"))
	if v, present := a.body["region"]; !present || v != nil {
		t.Errorf("region = %v (present %v), want null", v, present)
	}
}

func TestConformance_Stats(t *testing.T) {
	s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{})
	s.do("POST", api+"/reference/A", vals("name", "A"))
	s.do("POST", api+"/reference/A", vals("name", "A"))
	s.do("GET", api, nil)
	s.do("DELETE", api+"/reference/A", nil)
	a := s.do("GET", "/_sim/stats", nil)
	want := map[string]any{"POST /customers/reference/{id}": 2.0, "GET /customers": 1.0, "DELETE /customers/reference/{id}": 1.0}
	if got := a.body["requests"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stats = %v, want %v", got, want)
	}
}
