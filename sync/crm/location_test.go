package crm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// jsessionidFront answers as a servlet container does on a first login:
// the redirect to /login/ajaxSuccess carries the session id in its path
// (";jsessionid=…"). Writes to /customers/reference/MOVED are redirected
// with the id in the path and a token in the query.
func jsessionidFront(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/customers/reference/MOVED") {
			http.Redirect(w, r, "/elsewhere;jsessionid=SECRETSESSION?token=SECRETQUERY", http.StatusTemporaryRedirect)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		if loc := rec.Header().Get("Location"); strings.HasSuffix(loc, "/login/ajaxSuccess") {
			w.Header().Set("Location", loc+";jsessionid=SECRETSESSION")
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// TestSession_PathParametersInLocations: a login redirect with
// ";jsessionid=…" in its path is the success it is, and no redirect's
// session id or query reaches an error message.
func TestSession_PathParametersInLocations(t *testing.T) {
	ts := simtest.Serve(t, simtest.Setup{Options: crmsim.Options{User: simUser, Password: simPassword},
		Front: func(sim *crmsim.Server) http.Handler { return jsessionidFront(sim) }})
	c := MustClient(t, ts.URL, sessionConfig(nil))
	ctx := context.Background()
	if _, err := c.Upsert(ctx, "S-1", upsertForm("Session One")); err != nil {
		t.Fatalf("login through a ;jsessionid redirect: %v", err)
	}
	_, err := c.Upsert(ctx, "MOVED", upsertForm("Moved"))
	var re *crm.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("Upsert = %v, want a RedirectError", err)
	}
	if msg := err.Error(); strings.Contains(msg, "SECRET") || !strings.Contains(msg, "/elsewhere") {
		t.Errorf("the redirect error says %q: want the place, without the session id or the query", msg)
	}
}
