package crmsim_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// rawAnswer is an answer read without following redirects.
type rawAnswer struct {
	status int
	header http.Header
	body   string
}

// raw sends a request and does not follow a redirect.
func (s *sim) raw(t *testing.T, method, path, body string, header http.Header) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawAnswer{resp.StatusCode, resp.Header, string(b)}
}

// session is what a login gave: the cookie and the token.
type session struct{ cookie, token string }

// header is the request header of an API call in the session.
func (se session) header() http.Header {
	h := http.Header{}
	if se.cookie != "" {
		h.Set("Cookie", "JSESSIONID="+se.cookie)
	}
	if se.token != "" {
		h.Set("Authorization", "Bearer "+se.token)
	}
	return h
}

// login logs in as the public clients do and fails the test unless it
// works: 302 to ajaxSuccess with a cookie, then the token from there.
func (s *sim) login(t *testing.T, user, password string) session {
	t.Helper()
	form := url.Values{"j_username": {user}, "j_password": {password}, "ajax": {"true"}}.Encode()
	a := s.raw(t, http.MethodPost, "/j_spring_security_check", form, nil)
	if a.status != http.StatusFound || a.header.Get("Location") != s.url+"/login/ajaxSuccess" {
		t.Fatalf("login: %d Location %q, want 302 to %s/login/ajaxSuccess", a.status, a.header.Get("Location"), s.url)
	}
	var se session
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "JSESSIONID" {
			se.cookie = c.Value
		}
	}
	if se.cookie == "" {
		t.Fatalf("login: no JSESSIONID cookie in %v", a.header["Set-Cookie"])
	}
	ok := s.must(t, 200, call{method: http.MethodGet, path: "/login/ajaxSuccess", header: session{cookie: se.cookie}.header()})
	se.token = ok.str("token")
	if ok.body["success"] != true || se.token == "" {
		t.Fatalf("ajaxSuccess: %s", ok.raw)
	}
	if user, _ := ok.body["user"].(map[string]any); user == nil || user["username"] != "erp" {
		t.Errorf("ajaxSuccess user = %v", ok.body["user"])
	}
	return se
}

// TestConformance_Login: -user and -password turn on the session login of
// the real CRM, and every API call then needs the session.
func TestConformance_Login(t *testing.T) {
	s := fixture(t, crmsim.Options{User: "erp", Password: "pw-9"})
	se := s.login(t, "erp", "pw-9")

	t.Run("a call in the session", func(t *testing.T) {
		for _, c := range []call{get(api), get(api + "/reference/NC-3"), post(api+"/reference/NEW", "name", "N")} {
			c.header = se.header()
			if a := s.do(t, c); a.status != 200 && a.status != 201 {
				t.Errorf("%s: %d %s", c, a.status, a.raw)
			}
		}
	})
	t.Run("ajaxSuccess by POST", func(t *testing.T) {
		a := s.must(t, 200, call{method: http.MethodPost, path: "/login/ajaxSuccess", header: session{cookie: se.cookie}.header()})
		if a.str("token") != se.token {
			t.Errorf("token %s, want %s", a.str("token"), se.token)
		}
	})
	t.Run("credentials in the query", func(t *testing.T) {
		a := s.raw(t, http.MethodPost, "/j_spring_security_check?j_username=erp&j_password=pw-9&ajax=true", "", nil)
		if a.status != 302 || !strings.HasSuffix(a.header.Get("Location"), "/login/ajaxSuccess") ||
			!strings.Contains(a.header.Get("Set-Cookie"), "JSESSIONID=") {
			t.Errorf("%d %v", a.status, a.header)
		}
	})
	for _, tc := range []struct {
		name string
		se   session
	}{
		{"no credentials", session{}},
		{"the cookie without the token", session{cookie: se.cookie}},
		{"the token without the cookie", session{token: se.token}},
		{"an unknown session", session{cookie: "0123456789ABCDEF0123456789ABCDEF", token: "0123456789ABCDEF0123456789ABCDEF"}},
		{"the cookie with another token", session{cookie: se.cookie, token: "pw-9"}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			for _, c := range []call{get(api), post(api+"/reference/NC-3", "name", "X"), del(api + "/reference/CHILD")} {
				c.header = tc.se.header()
				s.do(t, c).wantError(t, 401, "no_credentials", "Full authentication is required to access this resource")
			}
		})
	}
	if c, _ := s.store.ByReference("NC-3"); c.Name == "X" {
		t.Errorf("a refused upsert changed NC-3")
	}
	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "erp", "pw-8"},
		{"wrong user", "erq", "pw-9"},
		{"no password", "erp", ""},
		{"password with a suffix", "erp", "pw-99"},
	} {
		t.Run("login refused: "+tc.name, func(t *testing.T) {
			form := url.Values{"j_username": {tc.user}, "j_password": {tc.password}, "ajax": {"true"}}.Encode()
			a := s.raw(t, http.MethodPost, "/j_spring_security_check", form, nil)
			if a.status != 302 || a.header.Get("Location") != s.url+"/login/authfail?ajax=true" || a.header.Get("Set-Cookie") != "" {
				t.Fatalf("%d Location %q Set-Cookie %q, want 302 to /login/authfail?ajax=true and no cookie",
					a.status, a.header.Get("Location"), a.header.Get("Set-Cookie"))
			}
			s.do(t, get("/login/authfail?ajax=true")).wantError(t, 401, "bad_credentials", "")
		})
	}
	t.Run("logins counted", func(t *testing.T) {
		a := s.must(t, 200, get("/_sim/stats"))
		if a.body["logins"] != 2.0 {
			t.Errorf("logins = %v, want 2 (the refused ones are not counted)", a.body["logins"])
		}
		if req, _ := a.body["requests"].(map[string]any); req["POST /j_spring_security_check"] != 6.0 {
			t.Errorf("requests = %v, want 6 logins tried", a.body["requests"])
		}
		if strings.Contains(string(a.raw), "pw-9") {
			t.Errorf("the stats show the password: %s", a.raw)
		}
	})
}

// TestConformance_SessionExpiry: -session-ttl ends a session that long
// after its login, on the injected clock; the next call gets
// no_credentials and a new login works again.
func TestConformance_SessionExpiry(t *testing.T) {
	clk := simtest.NewClock(t0)
	s := fixture(t, crmsim.Options{User: "erp", Password: "pw-9", SessionTTL: 2 * time.Second, Now: clk.Now})
	se := s.login(t, "erp", "pw-9")
	list := get(api)
	list.header = se.header()

	clk.Set(t0.Add(2*time.Second - time.Millisecond))
	s.must(t, 200, list)
	clk.Set(t0.Add(2 * time.Second))
	s.do(t, list).wantError(t, 401, "no_credentials", "")
	s.do(t, call{method: http.MethodGet, path: "/login/ajaxSuccess", header: session{cookie: se.cookie}.header()}).
		wantError(t, 401, "no_credentials", "")

	again := s.login(t, "erp", "pw-9")
	if again.cookie == se.cookie {
		t.Errorf("the new session has the old id")
	}
	list.header = again.header()
	s.must(t, 200, list)
	if n := s.must(t, 200, get("/_sim/stats")).body["logins"]; n != 2.0 {
		t.Errorf("logins = %v, want 2", n)
	}
	t.Run("the store's clock is Options.Now too", func(t *testing.T) {
		c := post(api+"/reference/CLOCK", "name", "Clock")
		c.header = again.header()
		if got := s.must(t, 201, c).str("dateCreated"); got != "2015-12-17T23:00:02Z" {
			t.Errorf("dateCreated %s, want the injected clock's 2015-12-17T23:00:02Z", got)
		}
	})
}

// TestConformance_LoginAndToken: with -token beside the login, the token
// keeps working without a session; a wrong one gets no_credentials.
func TestConformance_LoginAndToken(t *testing.T) {
	s := fixture(t, crmsim.Options{User: "erp", Password: "pw-9", Token: "s3cret"})
	for _, tc := range []struct {
		authorization string
		status        int
	}{{"Bearer s3cret", 200}, {"Bearer wrong", 401}, {"", 401}} {
		c := get(api)
		if tc.authorization != "" {
			c.header = http.Header{"Authorization": {tc.authorization}}
		}
		a := s.do(t, c)
		if tc.status == 401 {
			a.wantError(t, 401, "no_credentials", "")
		} else if a.status != 200 {
			t.Errorf("%q: %d %s", tc.authorization, a.status, a.raw)
		}
	}
	se := s.login(t, "erp", "pw-9")
	c := get(api)
	c.header = se.header()
	s.must(t, 200, c)
}

// TestConformance_NoLoginByDefault: without -user there are no login
// endpoints, and no logins in the stats.
func TestConformance_NoLoginByDefault(t *testing.T) {
	s := fixture(t, crmsim.Options{})
	a := s.raw(t, http.MethodPost, "/j_spring_security_check", "j_username=erp&j_password=x&ajax=true", nil)
	if a.status != 404 {
		t.Errorf("login without -user: %d %s", a.status, a.body)
	}
	if _, ok := s.must(t, 200, get("/_sim/stats")).body["logins"]; ok {
		t.Errorf("stats show logins without -user")
	}
}

// TestConformance_SessionRequests: -session-requests 3 ends a session after
// its third API request; the fourth gets no_credentials, and the login's
// own ajaxSuccess is no API request. A new login works again.
func TestConformance_SessionRequests(t *testing.T) {
	s := fixture(t, crmsim.Options{User: "erp", Password: "pw-9", Quirks: crmsim.Quirks{SessionRequests: 3}})
	se := s.login(t, "erp", "pw-9")
	list := get(api)
	list.header = se.header()
	for range 3 {
		s.must(t, 200, list)
	}
	s.do(t, list).wantError(t, 401, "no_credentials", "")
	s.do(t, list).wantError(t, 401, "no_credentials", "")
	again := s.login(t, "erp", "pw-9")
	list.header = again.header()
	s.must(t, 200, list)
}
