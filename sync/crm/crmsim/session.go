package crmsim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// The session login of the real CRM, as its public clients (the vendor's
// MuleSoft connector, a PHP client) use it: a Spring Security form login
// with ajax=true.
//
//	POST /j_spring_security_check  j_username, j_password, ajax=true (form or query)
//	  → 302 Location: {base}/login/ajaxSuccess, Set-Cookie: JSESSIONID=…
//	  → wrong credentials: 302 Location: {base}/login/authfail?ajax=true
//	GET or POST /login/ajaxSuccess with the cookie
//	  → 200 {"success":true,"token":"…","user":{…}}
//
// A refused login redirects to /login/authfail?ajax=true, Spring Security's
// failure URL for ajax logins, which answers 401 bad_credentials: a client
// that follows redirects sees a failure, one that does not sees a Location
// that is not ajaxSuccess. The token is the session id, as the vendor's
// documentation shows it.

// sessionCookie is the servlet session's cookie.
const sessionCookie = "JSESSIONID"

// Counts of the login endpoints in /_sim/stats.
const (
	opLogin        = "POST /j_spring_security_check"
	opLoginFailure = "GET /login/authfail"
)

// handleLogin checks the credentials and opens a session.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	s.count(opLogin)
	if !s.delay(r.Context()) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, bodyError(err))
		return
	}
	if !s.credentialsMatch(r.Form.Get("j_username"), r.Form.Get("j_password")) {
		http.Redirect(w, r, baseURL(r)+"/login/authfail?ajax=true", http.StatusFound)
		return
	}
	id := newSessionID()
	s.mu.Lock()
	s.dropEndedSessions()
	s.sessions[id] = &simSession{login: s.now()}
	s.logins++
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true})
	target := "/login/ajaxSuccess"
	if r.Form.Get("ajax") != "true" {
		target = "/" // a browser's login lands on the web application
	}
	http.Redirect(w, r, baseURL(r)+target, http.StatusFound)
}

// handleLoginSuccess answers the session's token and user.
func (s *Server) handleLoginSuccess(w http.ResponseWriter, r *http.Request) {
	s.count(r.Method + " /login/ajaxSuccess")
	id, ok := s.sessionOf(r)
	if !ok {
		writeError(w, errNoCredentials())
		return
	}
	org := s.Store.organization()
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"token":   id,
		"user": map[string]any{
			"username":               s.opts.User,
			"companyName":            org.Name,
			"isGeoLocationActivated": org.GeographicalLocations,
		},
	})
}

// handleLoginFailure answers the redirect of a refused login.
func (s *Server) handleLoginFailure(w http.ResponseWriter, _ *http.Request) {
	s.count(opLoginFailure)
	writeError(w, errBadCredentials())
}

// authorize lets an API call through, or says why not: with a login
// configured, a live session or the token; with only a token, the token.
func (s *Server) authorize(r *http.Request) *apiError {
	bearer, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tokenOK := s.opts.Token != "" && hasBearer && equal(bearer, s.opts.Token)
	switch {
	case s.opts.User == "" && s.opts.Token == "":
		return nil
	case tokenOK:
		return nil
	case s.opts.User == "":
		return errToken()
	}
	if id, ok := s.sessionOf(r); ok && hasBearer && equal(bearer, id) && s.useSession(id) {
		return nil
	}
	return errNoCredentials()
}

// simSession is an open session: when it logged in, and how many API
// requests it made.
type simSession struct {
	login    time.Time
	requests int
}

// useSession counts an API request of a session. With SessionRequests, a
// session that has made that many ends: the request is refused, and the
// session is dropped. The reference says nothing of a session's end: the
// refusal is the one of a call without a session (401 no_credentials), as
// the vendor's public clients expect it.
func (s *Server) useSession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[id]
	if !ok {
		return false
	}
	se.requests++
	if n := s.opts.SessionRequests; n > 0 && se.requests > n {
		delete(s.sessions, id)
		return false
	}
	return true
}

// sessionOf returns the request's live session; an ended one is dropped.
func (s *Server) sessionOf(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[c.Value]
	if !ok {
		return "", false
	}
	if s.ended(se.login) {
		delete(s.sessions, c.Value)
		return "", false
	}
	return c.Value, true
}

// ended reports whether a session opened at login has ended. Real servlet
// sessions end after a time idle; crmsim ends them SessionTTL after their
// login, so that a busy client meets the end too.
func (s *Server) ended(login time.Time) bool {
	return s.opts.SessionTTL > 0 && !s.now().Before(login.Add(s.opts.SessionTTL))
}

// dropEndedSessions keeps the session table bounded; s.mu is held.
func (s *Server) dropEndedSessions() {
	for id, se := range s.sessions {
		if s.ended(se.login) {
			delete(s.sessions, id)
		}
	}
}

func (s *Server) credentialsMatch(user, password string) bool {
	u := equal(user, s.opts.User)
	p := equal(password, s.opts.Password)
	return u && p
}

// Logins returns the number of successful logins.
func (s *Server) Logins() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// now is the sessions' clock: Options.Now, else the store's.
func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return s.Store.clock()
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// newSessionID is 32 upper-case hex digits, like a servlet container's.
func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return strings.ToUpper(hex.EncodeToString(b))
}
