package crm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// elsewhere is another listener that counts what reaches it.
type elsewhere struct {
	requests, withAuth, withCookie atomic.Int64
}

func (e *elsewhere) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	if r.Header.Get("Authorization") != "" {
		e.withAuth.Add(1)
	}
	if r.Header.Get("Cookie") != "" {
		e.withCookie.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":1,"reference":"R","name":"stolen"}`))
}

// TestClient_RedirectNotFollowed puts a front before a real crmsim that
// answers writes with a redirect to another port: the write must fail as
// fatal, naming the Location, and nothing may reach the other port.
func TestClient_RedirectNotFollowed(t *testing.T) {
	const token = "redirect-test-token"
	for _, tc := range []struct {
		name   string
		status int
		tls    bool
	}{
		{"301 to another port", http.StatusMovedPermanently, false},
		{"301 to https on another port", http.StatusMovedPermanently, true},
		{"302 to another port", http.StatusFound, false},
		{"307 to another port", http.StatusTemporaryRedirect, false},
		{"308 to another port", http.StatusPermanentRedirect, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := &elsewhere{}
			var target *httptest.Server
			if tc.tls {
				target = httptest.NewTLSServer(other)
			} else {
				target = httptest.NewServer(other)
			}
			defer target.Close()
			sim, _ := MustSim(t, crmsim.Options{Token: token})
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					sim.ServeHTTP(w, r)
					return
				}
				http.Redirect(w, r, target.URL+r.URL.RequestURI(), tc.status)
			}))
			defer front.Close()
			c := MustClient(t, front.URL, crm.Config{Token: token, Retries: 3})
			ctx := context.Background()

			cu, err := c.Upsert(ctx, "RD-1", upsertForm("Redirected"))
			checkRedirect(t, err, tc.status, target.URL)
			if cu != nil {
				t.Errorf("upsert returned a customer: %+v", cu)
			}
			if err := c.DeleteByReference(ctx, "RD-1"); err == nil {
				t.Error("delete through a redirect reported success")
			} else {
				checkRedirect(t, err, tc.status, target.URL)
			}
			if n := other.requests.Load(); n != 0 {
				t.Errorf("the other port received %d requests (%d with Authorization, %d with a cookie), want 0",
					n, other.withAuth.Load(), other.withCookie.Load())
			}
			if n := sim.Stats()[crm.OpUpsert] + sim.Stats()[crm.OpDeleteByReference]; n != 0 {
				t.Errorf("crmsim received %d writes, want 0", n)
			}
			if n := sim.Stats()[crm.OpShowByReference]; n != 0 {
				t.Errorf("a write was re-sent as a GET %d times", n)
			}
			if _, ok := sim.Store.ByReference("RD-1"); ok {
				t.Error("RD-1 was stored")
			}
			if st := c.Stats(); st.Requests != 2 || st.Retries != 0 {
				t.Errorf("client stats = %+v, want 2 requests and no retry", st)
			}
		})
	}
}

func checkRedirect(t *testing.T, err error, status int, location string) {
	t.Helper()
	var re *crm.RedirectError
	if !errors.As(err, &re) || re.Status != status {
		t.Fatalf("err = %v, want a %d *RedirectError", err, status)
	}
	if !crm.IsFatal(err) {
		t.Errorf("a redirect is not fatal: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, location) || !strings.Contains(msg, "check crm.base_url") {
		t.Errorf("message %q names neither the Location %s nor crm.base_url", msg, location)
	}
}
