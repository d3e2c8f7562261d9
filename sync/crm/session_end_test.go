package crm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// TestSession_EndsAgainDuringOneCall: sessions of one request, and a 500
// now and then (fixed seed). A call refused for its ended session logs in,
// and its repeat may then meet a 500, which used the new session up: the
// next repeat is refused again. Each such end gets a new login (up to
// three a call); every call goes through.
func TestSession_EndsAgainDuringOneCall(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and client
	sim, ts := MustSim(t, crmsim.Options{User: simUser, Password: simPassword, FailRate: 0.1, FaultSeed: 7,
		Quirks: crmsim.Quirks{SessionRequests: 1}})
	cfg := sessionConfig(nil)
	cfg.Retries = 20
	c := MustClient(t, ts.URL, cfg)
	ctx := context.Background()
	for i := range 40 {
		if _, err := c.ListPage(ctx, crm.ListQuery{Max: 1}); err != nil {
			t.Fatalf("call %d: %v (stats %+v)", i, err, c.Stats())
		}
	}
	st := c.Stats()
	if st.Logins != sim.Logins() || st.Relogins < 40 {
		t.Errorf("stats %+v, crmsim logins %d: want a login per call at least", st, sim.Logins())
	}
}

// TestSession_ShortSessionsConcurrent: 8 workers, sessions of 10 requests:
// 240 upserts all go through, the workers sharing each new session.
func TestSession_ShortSessionsConcurrent(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and client
	sim, ts := MustSim(t, crmsim.Options{User: simUser, Password: simPassword,
		Quirks: crmsim.Quirks{SessionRequests: 10}})
	cfg := sessionConfig(nil)
	cfg.Concurrency = 8
	c := MustClient(t, ts.URL, cfg)
	ctx := context.Background()
	var wg gosync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				if _, err := c.Upsert(ctx, fmt.Sprintf("W%d-%02d", w, i), upsertForm("Worker")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := sim.Store.Len(); n != 240 {
		t.Errorf("crmsim holds %d customers, want 240", n)
	}
	// 240 upserts and the refused ones: at least 24 sessions; shared, far
	// fewer than one login per refused call.
	if st := c.Stats(); st.Logins < 24 || st.Logins > 60 {
		t.Errorf("stats %+v: want 24 to 60 logins", st)
	}
}

// TestSession_ForbiddenOnAWorkingSession: a 403 on a session that worked
// means it ended (a login again, the call repeated); a 403 on a session
// that never worked is a right the user lacks: fatal, no new login.
func TestSession_ForbiddenOnAWorkingSession(t *testing.T) {
	sim, _ := MustSim(t, crmsim.Options{User: simUser, Password: simPassword})
	var forbid atomic.Int64 // API calls still to answer 403
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && forbid.Add(-1) >= 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"access_denied","error_description":"Access is denied"}`))
			return
		}
		sim.ServeHTTP(w, r)
	}))
	defer front.Close()
	ctx := context.Background()

	fresh := MustClient(t, front.URL, sessionConfig(nil))
	forbid.Store(1)
	if _, err := fresh.ListPage(ctx, crm.ListQuery{}); !crm.IsFatal(err) || fresh.Stats().Logins != 1 {
		t.Errorf("403 on a new session: err %v, stats %+v; want fatal after 1 login", err, fresh.Stats())
	}

	c := MustClient(t, front.URL, sessionConfig(nil))
	forbid.Store(0)
	if _, err := c.ListPage(ctx, crm.ListQuery{}); err != nil {
		t.Fatal(err)
	}
	forbid.Store(1)
	if _, err := c.ListPage(ctx, crm.ListQuery{}); err != nil {
		t.Errorf("403 on a session that worked: %v", err)
	}
	if st := c.Stats(); st.Logins != 2 || st.Relogins != 1 {
		t.Errorf("stats %+v, want 2 logins, 1 re-login", st)
	}
}
