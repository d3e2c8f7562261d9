package crm_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

const (
	simUser     = "api-user"
	simPassword = "s3cret-Pa55word-9d1e"
)

// secrets records every token and cookie that crosses a front put before
// crmsim, so a test can look for them where they must not be.
type secrets struct {
	mu     gosync.Mutex
	values map[string]bool
}

func (s *secrets) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.values == nil {
			s.values = map[string]bool{}
		}
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			s.values[tok] = true
		}
		for _, ck := range r.Cookies() {
			s.values[ck.Value] = true
		}
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// assertAbsent fails when a secret (or the password) is in text.
func (s *secrets) assertAbsent(t *testing.T, where, text string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.values) == 0 {
		t.Fatal("no token or cookie crossed the front: the test proves nothing")
	}
	for v := range s.values {
		if strings.Contains(text, v) {
			t.Errorf("a token or cookie is in %s", where)
		}
	}
	if strings.Contains(text, simPassword) {
		t.Errorf("the password is in %s", where)
	}
}

// bufferLogger is a debug-level logger into a buffer.
func bufferLogger() (*zap.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
		zapcore.Lock(zapcore.AddSync(&buf)), zapcore.DebugLevel)
	return zap.New(core), &buf
}

// sessionSim is crmsim with the login on, a 2 s session and a fake clock.
func sessionSim(t *testing.T) (*crmsim.Server, *simtest.Clock, *secrets, string) {
	t.Helper()
	clock := simtest.NewClock(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))
	sec := &secrets{}
	ts := simtest.Serve(t, simtest.Setup{Options: crmsim.Options{User: simUser, Password: simPassword,
		SessionTTL: 2 * time.Second, Now: clock.Now},
		Front: func(sim *crmsim.Server) http.Handler { return sec.front(sim) }})
	return ts.Server, clock, sec, ts.URL
}

func sessionConfig(log *zap.Logger) crm.Config {
	return crm.Config{Auth: crm.AuthSession, Username: simUser, Password: simPassword, Logger: log}
}

func TestSession_Login(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and client
	sim, _, sec, url := sessionSim(t)
	log, buf := bufferLogger()
	c := MustClient(t, url, sessionConfig(log))
	ctx := context.Background()

	if _, err := c.Upsert(ctx, "S-1", upsertForm("Session One")); err != nil {
		t.Fatal(err)
	}
	p, err := c.ListPage(ctx, crm.ListQuery{})
	if err != nil || p.Paging.Total != 1 {
		t.Fatalf("list: %v, %+v", err, p)
	}
	if n := sim.Logins(); n != 1 {
		t.Errorf("crmsim counted %d logins, want 1", n)
	}
	if st := c.Stats(); st.Logins != 1 || st.Relogins != 0 || st.Requests != 4 {
		t.Errorf("stats = %+v, want 1 login, 0 re-logins, 4 requests (login, token, upsert, list)", st)
	}
	if u := c.LoginUser(); u["username"] != simUser {
		t.Errorf("login user = %v", u)
	}
	if !strings.Contains(buf.String(), "crm session login") {
		t.Errorf("the login is not in the log:\n%s", buf.String())
	}
	sec.assertAbsent(t, "the log", buf.String())
}

// TestSession_ExpiryMidRun ends the session between calls: a create (a
// POST, never retried otherwise) is refused as expired, and repeated once
// after one new login.
func TestSession_ExpiryMidRun(t *testing.T) {
	sim, clock, sec, url := sessionSim(t)
	log, buf := bufferLogger()
	c := MustClient(t, url, sessionConfig(log))
	ctx := context.Background()

	if _, err := c.Upsert(ctx, "E-1", upsertForm("Before")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Second) // past the 2 s session
	form := crm.NewForm().Set("reference", "E-2").Set("name", "Created after expiry")
	cu, err := c.Create(ctx, form)
	if err != nil {
		t.Fatalf("create after the session ended: %v", err)
	}
	if cu.Reference != "E-2" {
		t.Errorf("created %q", cu.Reference)
	}
	if n := sim.Stats()[crm.OpCreate]; n != 2 {
		t.Errorf("crmsim received %d creates, want 2 (refused, then repeated once)", n)
	}
	if n := sim.Store.Len(); n != 2 {
		t.Errorf("crmsim holds %d customers, want 2", n)
	}
	if st := c.Stats(); st.Logins != 2 || st.Relogins != 1 || st.Retries != 0 {
		t.Errorf("stats = %+v, want 2 logins, 1 re-login, no retry", st)
	}
	if n := sim.Logins(); n != 2 {
		t.Errorf("crmsim counted %d logins, want 2", n)
	}
	if !strings.Contains(buf.String(), "logged in again") {
		t.Errorf("the re-login is not in the log:\n%s", buf.String())
	}
	sec.assertAbsent(t, "the log", buf.String())
}

// TestSession_ConcurrentRefusalsShareOneLogin sends many calls at once
// after the session ended: one re-login serves them all.
func TestSession_ConcurrentRefusalsShareOneLogin(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and client
	sim, clock, _, url := sessionSim(t)
	cfg := sessionConfig(nil)
	cfg.Concurrency = 16
	c := MustClient(t, url, cfg)
	ctx := context.Background()
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Second)
	var wg gosync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Upsert(ctx, "C-"+string(rune('A'+i)), upsertForm("Concurrent"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := c.Stats(); st.Logins != 2 || st.Relogins != 1 {
		t.Errorf("stats = %+v, want 2 logins, 1 re-login for 16 refused calls", st)
	}
	if n := sim.Store.Len(); n != 16 {
		t.Errorf("crmsim holds %d customers, want 16", n)
	}
}

// TestSession_WrongPassword stops at the login's first request with a
// fatal error that names no secret; later calls send nothing.
func TestSession_WrongPassword(t *testing.T) {
	sim, _, _, url := sessionSim(t)
	log, buf := bufferLogger()
	cfg := sessionConfig(log)
	cfg.Password = "wrong-Pa55word-0c7b"
	c := MustClient(t, url, cfg)
	ctx := context.Background()

	_, err := c.ListPage(ctx, crm.ListQuery{})
	var le *crm.LoginError
	if !errors.As(err, &le) || !le.Refused || !crm.IsFatal(err) {
		t.Fatalf("err = %v, want a fatal refused *LoginError", err)
	}
	if !strings.Contains(err.Error(), "credentials refused") {
		t.Errorf("message %q does not say the credentials were refused", err)
	}
	for i := range 3 {
		if _, err := c.Upsert(ctx, "W-1", upsertForm("never")); !errors.As(err, &le) {
			t.Errorf("call %d after the refusal: %v", i, err)
		}
	}
	var total int64
	for _, n := range sim.Stats() {
		total += n
	}
	if total > 2 || c.Stats().Requests > 2 {
		t.Errorf("%d requests reached crmsim (%d sent), want at most 2: %v", total, c.Stats().Requests, sim.Stats())
	}
	for _, text := range []string{err.Error(), buf.String()} {
		if strings.Contains(text, cfg.Password) {
			t.Errorf("the password is in %q", text)
		}
	}
}

// TestSession_RefusedAgainIsFatal: a CRM that refuses every call even
// after a fresh login gets three re-logins per call, never a loop.
func TestSession_RefusedAgainIsFatal(t *testing.T) {
	sim, _, _, _ := sessionSim(t)
	var api atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"error":"no_credentials","error_description":"Full authentication is required"}`))
			return
		}
		sim.ServeHTTP(w, r) // the login, as crmsim answers it on this origin
	}))
	defer front.Close()
	c := MustClient(t, front.URL, sessionConfig(nil))
	_, err := c.ListPage(context.Background(), crm.ListQuery{})
	if !crm.IsFatal(err) {
		t.Fatalf("err = %v, want fatal", err)
	}
	if n, st := api.Load(), c.Stats(); n != 4 || st.Logins != 4 {
		t.Errorf("%d API calls and %d logins, want 4 and 4 (a 200 no_credentials is refused too)", n, st.Logins)
	}
}

// TestSession_LoginRedirectElsewhere: a login answered with a redirect to
// another origin is not followed; nothing reaches it.
func TestSession_LoginRedirectElsewhere(t *testing.T) {
	other := &elsewhere{}
	target := httptest.NewServer(other)
	defer target.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "ABC"})
		http.Redirect(w, r, target.URL+"/login/ajaxSuccess", http.StatusFound)
	}))
	defer front.Close()
	c := MustClient(t, front.URL, sessionConfig(nil))
	_, err := c.ListPage(context.Background(), crm.ListQuery{})
	var re *crm.RedirectError
	if !errors.As(err, &re) || !crm.IsFatal(err) {
		t.Fatalf("err = %v, want a fatal *RedirectError", err)
	}
	if n := other.requests.Load(); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}
}

// TestClient_WrongVersion: a version crmsim does not answer fails every
// call as a fatal *VersionError naming it, never as a missing customer;
// with the right version, a missing customer or payment type is a 404.
func TestClient_WrongVersion(t *testing.T) {
	_, ts := MustSim(t, crmsim.Options{})
	ctx := context.Background()
	c := MustClient(t, ts.URL, crm.Config{APIVersion: "v9"})
	_, errList := c.ListPage(ctx, crm.ListQuery{})
	_, errShow := c.ShowByReference(ctx, "NOPE")
	errDelete := c.DeleteByReference(ctx, "NOPE")
	for _, err := range []error{errList, errShow, errDelete} {
		var ve *crm.VersionError
		if !errors.As(err, &ve) || !crm.IsFatal(err) || crm.IsNotFound(err) {
			t.Errorf("err = %v, want a fatal *VersionError, not a not-found", err)
			continue
		}
		if !strings.Contains(err.Error(), `"v9"`) {
			t.Errorf("message %q does not name the version", err)
		}
	}

	good := MustClient(t, ts.URL, crm.Config{APIVersion: "v2.1"})
	_, err := good.ShowByReference(ctx, "NOPE")
	if !crm.IsNotFound(err) || crm.IsFatal(err) {
		t.Errorf("missing customer: err = %v, want a plain 404", err)
	}
	_, err = good.Upsert(ctx, "PT-1", upsertForm("Bad payment").Set("paymentTypes", `[{"id":999}]`))
	if !crm.IsNotFound(err) || crm.IsFatal(err) {
		t.Errorf("missing payment type: err = %v, want a plain 404", err)
	}
}

func TestClient_AuthConfig(t *testing.T) {
	for _, cfg := range []crm.Config{
		{BaseURL: "http://127.0.0.1:1", Auth: "oauth"},
		{BaseURL: "http://127.0.0.1:1", Auth: crm.AuthSession, Username: "u"},
		{BaseURL: "http://127.0.0.1:1", Auth: crm.AuthSession, Password: "p"},
	} {
		if _, err := crm.NewClient(cfg); err == nil {
			t.Errorf("NewClient(auth %q, user %q) accepted", cfg.Auth, cfg.Username)
		}
	}
}
