package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// How calls are authenticated (Config.Auth).
const (
	AuthNone    = "none"    // no credentials at all
	AuthBearer  = "bearer"  // Authorization: Bearer <Config.Token>
	AuthSession = "session" // the real CRM's login, below
)

// The session login of the real CRM, as its public clients (the vendor's
// MuleSoft connector, a PHP client) do it, a Spring Security form login:
//
//	POST {base}/j_spring_security_check  j_username, j_password, ajax=true
//	  → 302 Location: {base}/login/ajaxSuccess, Set-Cookie: JSESSIONID=…
//	    (refused credentials redirect elsewhere: /login/authfail?ajax=true)
//	GET that location with the cookie → 200 {"success":true,"token":…,"user":{…}}
//
// API calls then carry Authorization: Bearer <token> and the cookie. A call
// refused with the error code no_credentials (whatever its status), a 401,
// a 403 on a session that has worked, or a redirect to a login page means
// the session ended: the client logs in again, once for all the calls
// refused meanwhile (the logins are serialised: a call refused on a
// session that another call has already replaced just repeats on the new
// one), and repeats the refused call, whatever its method (a refused call
// was not processed). A session may end again while a call is repeated
// (short sessions, concurrent workers, another process of the same user
// logging in): each end is met the same way, up to maxCallLogins logins
// made by one call and maxCallRefusals refusals of one call; past them
// the call fails with the refusal, which is fatal. The login's one
// redirect is the only one the client reads, and only to the same origin;
// it follows no other.

// CodeNoCredentials is the real CRM's error code for a call without a live
// session.
const CodeNoCredentials = "no_credentials"

// Operation names of the login's two requests, for Observe and errors.
const (
	OpLogin        = "POST /j_spring_security_check"
	OpLoginSuccess = "GET /login/ajaxSuccess"
)

// LoginError is a session login that failed for good: the credentials
// were refused, or the answer was not a login's. It is fatal, and it holds
// neither the password nor the token.
type LoginError struct {
	Refused bool   // the CRM refused the user name and password
	Reason  string // what happened, e.g. "redirected to /login/authfail"
}

func (e *LoginError) Error() string {
	if e.Refused {
		return "crm session login: credentials refused (" + e.Reason + "): check the user name and password"
	}
	return "crm session login failed: " + e.Reason
}

// checkAuth checks Config.Auth and its credentials, and sets its default.
func checkAuth(cfg *Config) error {
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthBearer
	case AuthNone, AuthBearer:
	case AuthSession:
		if cfg.Username == "" || cfg.Password == "" {
			return errors.New("crm auth session: a user name and a password are needed")
		}
	default:
		return fmt.Errorf("crm auth %q: want none, bearer or session", cfg.Auth)
	}
	return nil
}

// credentials are what one request carries. gen numbers the session's
// logins (0: none yet), so that a refused call can tell whether another
// call has logged in again since it was sent.
type credentials struct {
	gen     uint64
	token   string
	cookies []*http.Cookie
}

func (cr credentials) apply(req *http.Request) {
	if cr.token != "" {
		req.Header.Set("Authorization", "Bearer "+cr.token)
	}
	for _, ck := range cr.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
}

// Bounds of the session ends that one call meets (see above).
const (
	maxCallLogins   = 3
	maxCallRefusals = 10
)

// sessionEnds counts the session ends one call met.
type sessionEnds struct{ logins, refusals int }

// renewSession meets the end of the session that cred carried, refused
// with err: a new login (or the one another call made since), within the
// call's bounds.
func (c *Client) renewSession(ctx context.Context, op string, cred credentials, ends *sessionEnds, err error) error {
	ends.refusals++
	if ends.logins >= maxCallLogins || ends.refusals > maxCallRefusals {
		return fmt.Errorf("%s: the CRM ended the session %d times during this call (%d new logins): %w",
			op, ends.refusals, ends.logins, err)
	}
	loggedIn, lerr := c.reloginNow(ctx, cred.gen)
	if lerr != nil {
		return fmt.Errorf("%s: %w", op, lerr)
	}
	if loggedIn {
		ends.logins++
	}
	return nil
}

// sessionWorked notes that a call went through on the session of cred.
func (c *Client) sessionWorked(cred credentials) {
	if c.session != nil && cred.gen > 0 {
		c.session.worked.Store(cred.gen)
	}
}

// session is the login state that every call shares.
type session struct {
	worked  atomic.Uint64 // the newest login (gen) a call went through on
	sem     chan struct{} // one login at a time
	mu      sync.Mutex    // guards what follows
	cred    credentials
	user    map[string]any // the login answer's user, never the token
	refused error          // a *LoginError: every later call fails with it
}

func newSession() *session { return &session{sem: make(chan struct{}, 1)} }

func (s *session) current() (credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred, s.refused
}

// credentials returns what the next request carries, logging in first
// when the session mode has no session yet.
func (c *Client) credentials(ctx context.Context) (credentials, error) {
	switch c.cfg.Auth {
	case AuthNone:
		return credentials{}, nil
	case AuthBearer:
		return credentials{token: c.cfg.Token}, nil
	}
	if cred, err := c.session.current(); err != nil || cred.gen > 0 {
		return cred, err
	}
	if err := c.relogin(ctx, 0); err != nil {
		return credentials{}, err
	}
	return c.session.current()
}

// Login opens the session now (a no-op unless Config.Auth is session or
// when a session is open). Calls log in by themselves; Login lets a caller
// see a login's failure, and time it, on its own.
func (c *Client) Login(ctx context.Context) error {
	if c.session == nil {
		return nil
	}
	_, err := c.credentials(ctx)
	return err
}

// LoginUser returns the `user` member of the last login's answer (nil
// without a session): the CRM's view of who is logged in.
func (c *Client) LoginUser() map[string]any {
	if c.session == nil {
		return nil
	}
	c.session.mu.Lock()
	defer c.session.mu.Unlock()
	out := make(map[string]any, len(c.session.user))
	for k, v := range c.session.user {
		out[k] = v
	}
	return out
}

// sessionEnded reports an answer that says the session of cred is gone: a
// 403 only on a session that has worked (on a new one, it is a right the
// user lacks).
func (c *Client) sessionEnded(err error, cred credentials) bool {
	if c.session == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		worked := cred.gen > 0 && c.session.worked.Load() >= cred.gen
		return ae.Status == http.StatusUnauthorized || ae.Code == CodeNoCredentials ||
			ae.Status == http.StatusForbidden && worked
	}
	var re *RedirectError
	return errors.As(err, &re) && isLoginPage(re.Location)
}

// isLoginPage reports a redirect to a login form, as a web application
// answers a call whose session ended.
func isLoginPage(location string) bool {
	u, err := url.Parse(location)
	if err != nil {
		return false
	}
	p := strings.ToLower(stripPathParams(u.Path))
	return strings.Contains(p, "/login") || strings.HasSuffix(p, "/j_spring_security_check")
}

// refusedInBody reports a 2xx answer whose body is the no_credentials error.
func refusedInBody(body []byte) bool {
	if !bytes.Contains(body, []byte(CodeNoCredentials)) {
		return false
	}
	var e struct {
		Code string `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Code == CodeNoCredentials
}

// relogin logs in, unless another call has done so since the login seen
// (0: none). Concurrent callers wait for the one login in progress and
// share it; after credentials were refused, every call fails at once.
func (c *Client) relogin(ctx context.Context, seen uint64) error {
	_, err := c.reloginNow(ctx, seen)
	return err
}

// reloginNow is relogin, and says whether this call made the login.
func (c *Client) reloginNow(ctx context.Context, seen uint64) (bool, error) {
	s := c.session
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.sem }()
	cur, refused := s.current()
	if refused != nil {
		return false, refused
	}
	if cur.gen != seen {
		return false, nil
	}
	cred, user, err := c.login(ctx)
	if err != nil {
		var le *LoginError
		if errors.As(err, &le) {
			s.mu.Lock()
			s.refused = err
			s.mu.Unlock()
		}
		return false, err
	}
	cred.gen = cur.gen + 1
	s.mu.Lock()
	s.cred, s.user = cred, user
	s.mu.Unlock()
	c.noteLogin(seen > 0)
	return true, nil
}

// noteLogin counts, logs and reports a login that succeeded.
func (c *Client) noteLogin(relogin bool) {
	logins := c.logins.Add(1)
	if relogin {
		c.log.Info("crm session ended; logged in again", zap.Int64("relogins", c.relogins.Add(1)))
	} else {
		c.log.Info("crm session login", zap.Int64("logins", logins))
	}
	if c.cfg.OnLogin != nil {
		c.cfg.OnLogin(relogin)
	}
}

// login opens a session, retrying what a retry may fix (5xx, 429, no
// answer) as an idempotent call.
func (c *Client) login(ctx context.Context) (credentials, map[string]any, error) {
	r := retryState{}
	for attempt := 1; ; attempt++ {
		cred, user, err := c.loginOnce(ctx)
		if err == nil {
			return cred, user, nil
		}
		if ctx.Err() != nil {
			return credentials{}, nil, fmt.Errorf("%s: %w", OpLogin, ctx.Err())
		}
		var le *LoginError
		if errors.As(err, &le) {
			return credentials{}, nil, err
		}
		wait, err := c.retryWait(call{op: OpLogin, idempotent: true}, nil, err, attempt, &r)
		if err != nil {
			return credentials{}, nil, err
		}
		c.retries.Add(1)
		if err := c.pause(ctx, wait); err != nil {
			return credentials{}, nil, fmt.Errorf("%s: %w", OpLogin, err)
		}
	}
}

// loginOnce posts the credentials, then fetches the token where the
// answer redirects.
func (c *Client) loginOnce(ctx context.Context) (credentials, map[string]any, error) {
	form := url.Values{"j_username": {c.cfg.Username}, "j_password": {c.cfg.Password}, "ajax": {"true"}}
	a, from, err := c.send(ctx, OpLogin, http.MethodPost, c.site+"/j_spring_security_check", form.Encode(), nil)
	if err != nil {
		return credentials{}, nil, err
	}
	next, err := loginTarget(from, a)
	if err != nil {
		return credentials{}, nil, err
	}
	cookies := mergeCookies(nil, a)
	b, _, err := c.send(ctx, OpLoginSuccess, http.MethodGet, next, "", cookies)
	if err != nil {
		return credentials{}, nil, err
	}
	switch {
	case b.status == http.StatusUnauthorized || b.status == http.StatusForbidden:
		return credentials{}, nil, &LoginError{Reason: fmt.Sprintf("%s answered %d to the session of the login", OpLoginSuccess, b.status)}
	case b.status < 200 || b.status > 299:
		return credentials{}, nil, decodeError(OpLoginSuccess, b)
	}
	token, user, err := readLoginAnswer(b.body)
	if err != nil {
		return credentials{}, nil, err
	}
	return credentials{token: token, cookies: mergeCookies(cookies, b)}, user, nil
}

// send is one request of the login: a form posted or a GET, with cookies.
func (c *Client) send(ctx context.Context, op, method, target, form string, cookies []*http.Cookie) (*answer, *url.URL, error) {
	if err := c.waitLimit(ctx, op); err != nil {
		return nil, nil, err
	}
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: build request: %w", op, err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest") // Spring Security's mark of an ajax login
	credentials{cookies: cookies}.apply(req)
	a, err := c.roundTrip(op, req)
	return a, req.URL, err
}

// loginTarget reads the login's answer: the same-origin redirect to
// /login/ajaxSuccess it should be, or why not.
func loginTarget(from *url.URL, a *answer) (string, error) {
	switch {
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return "", &LoginError{Refused: true, Reason: fmt.Sprintf("answered %d", a.status)}
	case a.status < 300 || a.status > 399:
		if a.status >= 200 && a.status <= 299 {
			return "", &LoginError{Reason: fmt.Sprintf("%s answered %d instead of redirecting to /login/ajaxSuccess: is crm.base_url the CRM's?", OpLogin, a.status)}
		}
		return "", decodeError(OpLogin, a)
	}
	re := redirectError(OpLogin, from, a)
	to, err := from.Parse(a.header.Get("Location"))
	if err != nil || a.header.Get("Location") == "" {
		return "", &LoginError{Reason: fmt.Sprintf("%s answered %d without a usable Location", OpLogin, a.status)}
	}
	if to.Scheme != from.Scheme || to.Host != from.Host {
		return "", re // another origin: never followed with the session's cookie
	}
	if !strings.HasSuffix(stripPathParams(to.Path), "/login/ajaxSuccess") {
		return "", &LoginError{Refused: true, Reason: "redirected to " + stripPathParams(to.Path)}
	}
	// The session travels in the cookie: the path's ";jsessionid=…" that a
	// servlet container adds to a first login's redirect is left out.
	to.User, to.Path, to.RawPath = nil, stripPathParams(to.Path), ""
	return to.String(), nil
}

// mergeCookies adds the cookies an answer sets to those kept, a cookie of
// the same name replacing the older.
func mergeCookies(kept []*http.Cookie, a *answer) []*http.Cookie {
	resp := http.Response{Header: a.header}
	out := append([]*http.Cookie(nil), kept...)
	for _, ck := range resp.Cookies() {
		out = slicesDeleteByName(out, ck.Name)
		if ck.Value != "" && ck.MaxAge >= 0 {
			out = append(out, &http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	return out
}

func slicesDeleteByName(cookies []*http.Cookie, name string) []*http.Cookie {
	out := cookies[:0]
	for _, ck := range cookies {
		if ck.Name != name {
			out = append(out, ck)
		}
	}
	return out
}

// readLoginAnswer reads the token and the user of /login/ajaxSuccess. Its
// errors never quote the body, which holds the token.
func readLoginAnswer(body []byte) (string, map[string]any, error) {
	var v struct {
		Token any            `json:"token"`
		User  map[string]any `json:"user"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", nil, &LoginError{Reason: OpLoginSuccess + " answered something other than the login's JSON"}
	}
	token, _ := v.Token.(string)
	if token == "" {
		return "", nil, &LoginError{Reason: OpLoginSuccess + " answered no token"}
	}
	delete(v.User, "token")
	return token, v.User, nil
}
