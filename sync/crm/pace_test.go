package crm_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// TestClient_PacedAtTheRateLimit (issue 25 §2): a client whose
// crm.rate_limit is the CRM's own limit, with more workers than the
// latency needs, is refused no request: every 429 costs a worker a whole
// second (Retry-After counts in seconds) and the bucket goes unused
// meanwhile. The client spreads its requests at the rate from the start
// (no burst saved up: the CRM's window saves none for it). crmsim counts
// the refusals; no time is measured. 75 requests at 50/s: half again what
// the CRM lets through at once, so that a client without a limit (4
// workers, 10 ms latency: refused from about the 56th) is refused some.
func TestClient_PacedAtTheRateLimit(t *testing.T) {
	t.Parallel() // 1 s at the rate limit, waiting; its own crmsim, it shares nothing
	const rate, n = 50, 75
	ts := simtest.Serve(t, simtest.Setup{Options: crmsim.Options{Latency: 10 * time.Millisecond},
		Front: func(sim *crmsim.Server) http.Handler { return crmsim.RateLimit(sim, rate, nil) }})
	sim := ts.Server
	c := MustClient(t, ts.URL, crm.Config{RateLimit: rate, Concurrency: 4, BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second})
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(4)
	start := time.Now()
	for i := range n {
		g.Go(func() error {
			f := crm.NewForm()
			f.Values.Set("name", fmt.Sprintf("Paced %d", i))
			_, err := c.Upsert(ctx, fmt.Sprintf("PACE-%04d", i), f)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	refused := sim.Stats()[crmsim.OpThrottled]
	t.Logf("%d upserts at a limit of %d/s: %d refused, %.0f%% of the limit (%s)",
		n, rate, refused, 100*float64(n)/took.Seconds()/rate, took.Round(time.Millisecond))
	if refused != 0 || c.Stats().Throttled != 0 {
		t.Errorf("%d requests refused by the CRM's rate limit (client saw %d); want none", refused, c.Stats().Throttled)
	}
}
