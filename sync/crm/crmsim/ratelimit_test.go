package crmsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// TestRateLimit_AnswersTooManyRequests: over N API requests a second,
// crmsim answers 429 too_many_requests with a Retry-After, as a real
// CRM's gateway does; a request is taken again as the second goes by
// (N a second, no burst above N); /_sim/stats is never limited and counts
// the requests refused.
func TestRateLimit_AnswersTooManyRequests(t *testing.T) {
	clock := simtest.NewClock(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC))
	ts := simtest.Serve(t, simtest.Setup{Front: func(sim *crmsim.Server) http.Handler { return crmsim.RateLimit(sim, 3, clock.Now) }})
	sim := ts.Server
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	const list = "/api/v2.1/customers?max=1"
	status := func() []int {
		var out []int
		for range 4 {
			out = append(out, get(list).StatusCode)
		}
		return out
	}
	if got := status(); got[0] != 200 || got[1] != 200 || got[2] != 200 || got[3] != 429 {
		t.Fatalf("four requests in one second at -rate 3: %v; want 200 200 200 429", got)
	}
	resp := get(list)
	var body struct{ Error string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 429 ||
		resp.Header.Get("Retry-After") != "1" || body.Error != crm.CodeTooManyRequests {
		t.Errorf("over the limit: %d, Retry-After %q, error %q (%v); want 429, 1, %s",
			resp.StatusCode, resp.Header.Get("Retry-After"), body.Error, err, crm.CodeTooManyRequests)
	}
	if got := get("/_sim/stats").StatusCode; got != 200 {
		t.Errorf("/_sim/stats over the limit: %d, want 200", got)
	}
	clock.Advance(time.Second / 3)
	if a, b := get(list).StatusCode, get(list).StatusCode; a != 200 || b != 429 {
		t.Errorf("a third of a second later: %d then %d; want one taken (200), then 429", a, b)
	}
	clock.Advance(time.Hour)
	if got := status(); got[0] != 200 || got[2] != 200 || got[3] != 429 {
		t.Errorf("an hour later: %v; want 3 taken (no burst saved up), then 429", got)
	}
	stats := sim.Stats()
	if stats[crm.OpList] != 7 || stats[crmsim.OpThrottled] != 4 {
		t.Errorf("stats: %v; want 7 lists served and 4 refused", stats)
	}
}

// TestRateLimit_ClientWaits: erpsync's client waits as Retry-After says
// and every call goes through; no limit (0) leaves the simulator as it is.
// The limit's clock moves by the waits the client asks for (crm.Pause):
// nothing is waited.
func TestRateLimit_ClientWaits(t *testing.T) {
	t.Parallel() // its own crmsim, clock and client
	clock := simtest.NewClock(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC))
	ts := simtest.Serve(t, simtest.Setup{Front: func(sim *crmsim.Server) http.Handler { return crmsim.RateLimit(sim, 2, clock.Now) }})
	sim := ts.Server
	if h := crmsim.RateLimit(sim, 0, nil); h != http.Handler(sim) {
		t.Errorf("RateLimit(sim, 0) = %T, want the simulator itself", h)
	}
	var waits []time.Duration
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Retries: 5, MaxThrottleWait: time.Minute,
		Pause: func(ctx context.Context, d time.Duration) error {
			if len(waits) == 20 {
				return errors.New("a 21st wait asked")
			}
			waits = append(waits, d)
			clock.Advance(d)
			return ctx.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	for i := range 4 {
		if _, err := client.ListPage(context.Background(), crm.ListQuery{Max: 1}); err != nil {
			t.Fatalf("list %d behind -rate 2: %v", i, err)
		}
	}
	if got := sim.Stats(); got[crm.OpList] != 4 || got[crmsim.OpThrottled] == 0 {
		t.Errorf("stats: %v; want 4 lists served and at least one refused", got)
	}
	for _, w := range waits {
		if w != time.Second {
			t.Errorf("waits asked %v; want the Retry-After of 1 s each time", waits)
			break
		}
	}
}
