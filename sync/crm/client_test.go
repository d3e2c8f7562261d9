package crm_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// MustSim starts crmsim on loopback with the built-in seed (simtest's
// one starter).
func MustSim(tb testing.TB, opts crmsim.Options) (*crmsim.Server, *simtest.Sim) {
	tb.Helper()
	sim := simtest.Start(tb, opts)
	return sim.Server, sim
}

// MustClient returns a client of url with fast backoff.
func MustClient(tb testing.TB, url string, cfg crm.Config) *crm.Client {
	tb.Helper()
	cfg.BaseURL = url
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = time.Millisecond
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = 10 * time.Millisecond
	}
	c, err := crm.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// faultyFront answers its first n requests with status (and Retry-After
// when retryAfter is set) before letting requests through to next.
func faultyFront(next http.Handler, n int64, status int, retryAfter string) (http.Handler, *atomic.Int64) {
	var seen atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":"x","error_description":"injected %d"}`, status)
			return
		}
		next.ServeHTTP(w, r)
	}), &seen
}

// faultySim serves crmsim (the built-in seed) behind faultyFront.
func faultySim(tb testing.TB, n int64, status int, retryAfter string) (*simtest.Sim, *atomic.Int64) {
	tb.Helper()
	var seen *atomic.Int64
	sim := simtest.Serve(tb, simtest.Setup{Front: func(s *crmsim.Server) http.Handler {
		var front http.Handler
		front, seen = faultyFront(s, n, status, retryAfter)
		return front
	}})
	return sim, seen
}

func upsertForm(name string) *crm.Form {
	return crm.NewForm().Set("name", name).Set("categoryId", "jewelry").Set("creditLimit", "5000")
}

func TestClient_Upsert(t *testing.T) {
	_, ts := MustSim(t, crmsim.Options{})
	c := MustClient(t, ts.URL, crm.Config{})
	ctx := context.Background()

	f := upsertForm("Marie's Jewelry").
		Set("paymentTypes", crm.PaymentTypesJSON([]int64{7, 8})).
		Set("dueDateConfigType", "1").Set("dueDateConfigNumber", "7").
		Set("regionId", "3")
	got, err := c.Upsert(ctx, "NC-3", f)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || got.Reference != "NC-3" || got.Name != "Marie's Jewelry" {
		t.Fatalf("got %+v", got)
	}
	if got.CustomerCategory == nil || got.CustomerCategory.Reference != "jewelry" || got.CustomerCategory.Href != "/api/v2.1/customerCategories/2" {
		t.Errorf("customerCategory = %+v", got.CustomerCategory)
	}
	if got.CreditLimit == nil || *got.CreditLimit != 5000 {
		t.Errorf("creditLimit = %v", got.CreditLimit)
	}
	if len(got.PaymentTypes) != 2 || got.PaymentTypes[1].Reference != "cheque" {
		t.Errorf("paymentTypes = %+v", got.PaymentTypes)
	}
	if got.DueDateConfigType == nil || *got.DueDateConfigType != crm.DueDaysAfterInvoiceDate {
		t.Errorf("dueDateConfigType = %v", got.DueDateConfigType)
	}
	if !got.Region.Present || got.Region.Value == nil || got.Region.Value.Name != "New York" {
		t.Errorf("region = %+v", got.Region)
	}

	shown, err := c.ShowByReference(ctx, "NC-3")
	if err != nil {
		t.Fatal(err)
	}
	byID, err := c.Show(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if shown.ID != got.ID || byID.Reference != "NC-3" || !shown.LastUpdated.Equal(got.LastUpdated.Time) {
		t.Errorf("show = %+v / %+v", shown, byID)
	}

	if err := c.DeleteByReference(ctx, "NC-3"); err != nil {
		t.Fatal(err)
	}
	_, err = c.ShowByReference(ctx, "NC-3")
	if !crm.IsNotFound(err) {
		t.Fatalf("after delete: err = %v, want not found", err)
	}
	var apiErr *crm.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != crm.CodeNotFound || apiErr.Description != "The customer with the id NC-3 doesn't exist." {
		t.Errorf("error = %#v", apiErr)
	}
	if err := c.DeleteByReference(ctx, "NC-3"); !crm.IsNotFound(err) {
		t.Errorf("second delete: %v, want not found", err)
	}
}

func TestClient_CreateUpdateDelete(t *testing.T) {
	_, ts := MustSim(t, crmsim.Options{})
	c := MustClient(t, ts.URL, crm.Config{})
	ctx := context.Background()

	parent, err := c.Create(ctx, crm.NewForm().Set("reference", "P-1").Set("name", "Parent").Set("categoryId", "3"))
	if err != nil {
		t.Fatal(err)
	}
	child, err := c.Create(ctx, crm.NewForm().Set("reference", "C-1").Set("name", "Child").
		Set("parentCustomer", fmt.Sprint(parent.ID)).Set("isSubCustomer", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if !child.IsSubCustomer || child.ParentCustomer == nil || child.ParentCustomer.ID != parent.ID {
		t.Fatalf("child = %+v", child)
	}
	if _, err := c.Create(ctx, crm.NewForm().Set("reference", "P-1").Set("name", "Again")); err == nil {
		t.Fatal("duplicate create succeeded")
	} else if !strings.Contains(err.Error(), "reference already used") {
		t.Errorf("duplicate create: %v", err)
	}
	upd, err := c.Update(ctx, parent.ID, crm.NewForm().Set("email", "a@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if upd.Email == nil || *upd.Email != "a@example.com" || upd.Name != "Parent" {
		t.Errorf("partial update = %+v", upd)
	}
	err = c.Delete(ctx, parent.ID)
	var apiErr *crm.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != crm.CodeDeleteFailed {
		t.Errorf("delete parent with child: %v, want delete_failed", err)
	}
	if err := c.Delete(ctx, child.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, parent.ID); err != nil {
		t.Fatal(err)
	}
}

func TestClient_Image(t *testing.T) {
	_, ts := MustSim(t, crmsim.Options{})
	c := MustClient(t, ts.URL, crm.Config{})
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	f := upsertForm("With logo")
	f.Image = &crm.Image{Filename: "logo.png", Content: png}
	got, err := c.Upsert(context.Background(), "IMG-1", f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Logo == nil || !strings.Contains(*got.Logo, "/photoCustomer/") || !strings.HasSuffix(*got.Logo, "_logo.png") {
		t.Errorf("logo = %v", got.Logo)
	}
	f.Image = &crm.Image{Filename: "notes.txt", Content: []byte("plain text")}
	_, err = c.Upsert(context.Background(), "IMG-1", f)
	var apiErr *crm.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != crm.CodeUnsupportedFileType {
		t.Errorf("text as image: %v", err)
	}
}

func TestClient_RetryAfter(t *testing.T) {
	t.Parallel() // its own crmsims; the waits are asked of a Pause, none is waited
	for _, tc := range []struct {
		name     string
		value    func() string
		min, max time.Duration
	}{
		{"seconds", func() string { return "1" }, time.Second, time.Second},
		// A date 3 s ahead, cut to the second, is 2 to 3 s ahead when
		// formatted (before crmsim starts): the client may read it up to
		// a second later, on a loaded machine, and still ask at least 1 s.
		{"http date", func() string { return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat) }, time.Second, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts, seen := faultySim(t, 1, http.StatusTooManyRequests, tc.value())
			var p pauses
			c := MustClient(t, ts.URL, crm.Config{Retries: -1, Pause: p.pause}) // no failure retries: a 429 is not a failure
			if _, err := c.Upsert(context.Background(), "T-1", upsertForm("Throttled")); err != nil {
				t.Fatal(err)
			}
			if asked := p.asked(); len(asked) != 1 || asked[0] < tc.min || asked[0] > tc.max {
				t.Errorf("waits asked %v, want one of %s to %s (Retry-After)", asked, tc.min, tc.max)
			}
			if seen.Load() != 2 {
				t.Errorf("requests = %d, want 2", seen.Load())
			}
			if st := c.Stats(); st.Throttled != 1 || st.Retries != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// TestClient_ThrottleWaitBounded: the Retry-Afters asked (crmsim's 1 s)
// are added up against MaxThrottleWait, whether or not they were waited.
func TestClient_ThrottleWaitBounded(t *testing.T) {
	t.Parallel() // its own crmsim; the waits are asked of a Pause, none is waited
	_, ts := MustSim(t, crmsim.Options{ThrottleRate: 1})
	var p pauses
	c := MustClient(t, ts.URL, crm.Config{MaxThrottleWait: 1500 * time.Millisecond, Pause: p.pause})
	_, err := c.Upsert(context.Background(), "T-1", upsertForm("Always throttled"))
	if !errors.Is(err, crm.ErrRetriesExhausted) {
		t.Fatalf("err = %v, want retries exhausted", err)
	}
	if st := c.Stats(); st.Requests != 2 {
		t.Errorf("requests = %d, want 2 (one wait of 1s fits in 1.5s, a second does not)", st.Requests)
	}
	if asked := p.asked(); len(asked) != 1 || asked[0] != time.Second {
		t.Errorf("waits asked %v, want one of 1s (crmsim's Retry-After)", asked)
	}
}

func TestClient_ServerErrorsRetried(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and client
	ts, seen := faultySim(t, 2, http.StatusInternalServerError, "")
	sim := ts.Server
	c := MustClient(t, ts.URL, crm.Config{Retries: 3})
	if _, err := c.Upsert(context.Background(), "R-1", upsertForm("Retried")); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 3 {
		t.Errorf("requests = %d, want 3", seen.Load())
	}
	if _, ok := sim.Store.ByReference("R-1"); !ok {
		t.Error("customer not stored")
	}

	t.Run("exhausted", func(t *testing.T) {
		front, seen := faultyFront(sim, 100, http.StatusBadGateway, "")
		ts := httptest.NewServer(front)
		defer ts.Close()
		c := MustClient(t, ts.URL, crm.Config{Retries: 2})
		err := c.DeleteByReference(context.Background(), "R-1")
		if !errors.Is(err, crm.ErrRetriesExhausted) || crm.IsFatal(err) {
			t.Fatalf("err = %v", err)
		}
		if seen.Load() != 3 {
			t.Errorf("requests = %d, want 3 (1 + 2 retries)", seen.Load())
		}
	})

	t.Run("fail rate converges", func(t *testing.T) {
		_, ts := MustSim(t, crmsim.Options{FailRate: 0.3, FaultSeed: 7})
		c := MustClient(t, ts.URL, crm.Config{Retries: 10, MaxThrottleWait: time.Minute})
		for i := range 10 {
			if _, err := c.Upsert(context.Background(), fmt.Sprintf("F-%d", i), upsertForm("Faulty")); err != nil {
				t.Fatal(err)
			}
		}
		if st := c.Stats(); st.Retries == 0 {
			t.Errorf("stats = %+v: the faults never fired", st)
		}
	})
}

func TestClient_CreateNotRetried(t *testing.T) {
	ts, seen := faultySim(t, 1, http.StatusInternalServerError, "")
	c := MustClient(t, ts.URL, crm.Config{Retries: 5})
	_, err := c.Create(context.Background(), crm.NewForm().Set("reference", "C-1").Set("name", "Once"))
	var apiErr *crm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Fatalf("err = %v, want the 500", err)
	}
	if seen.Load() != 1 {
		t.Errorf("requests = %d, want 1: a create that may have reached the server is not repeated", seen.Load())
	}
}

func TestClient_Unauthorized(t *testing.T) {
	const token = "s3cr3t-token-value"
	sim, ts := MustSim(t, crmsim.Options{Token: "the-right-one"})
	c := MustClient(t, ts.URL, crm.Config{Token: token, Retries: 5})
	_, err := c.Upsert(context.Background(), "A-1", upsertForm("Nope"))
	if !crm.IsFatal(err) {
		t.Fatalf("err = %v, want fatal", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error message holds the token: %v", err)
	}
	if n := sim.Stats()[crm.OpUpsert]; n != 1 {
		t.Errorf("upsert requests = %d, want 1 (no retry storm)", n)
	}

	ok := MustClient(t, ts.URL, crm.Config{Token: "the-right-one"})
	if _, err := ok.Upsert(context.Background(), "A-1", upsertForm("Yes")); err != nil {
		t.Errorf("right token: %v", err)
	}
}

func TestClient_Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	c := MustClient(t, "http://"+addr, crm.Config{Retries: 2})
	_, err = c.ShowByReference(context.Background(), "X")
	if !crm.IsUnreachable(err) || !errors.Is(err, crm.ErrRetriesExhausted) {
		t.Fatalf("err = %v, want unreachable after retries", err)
	}
	if st := c.Stats(); st.Requests != 3 {
		t.Errorf("attempts = %d, want 3", st.Requests)
	}
}

func TestClient_Cancelled(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and client
	_, ts := MustSim(t, crmsim.Options{Latency: 2 * time.Second})
	c := MustClient(t, ts.URL, crm.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.ShowByReference(ctx, "X")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if crm.IsFatal(err) || crm.IsUnreachable(err) {
		t.Error("a cancelled call is reported fatal or unreachable")
	}
}

// TestClient_List walks 1,050 customers in pages sorted by lastUpdated.
func TestClient_List(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim and client
	seed := crmsim.DefaultSeed()
	for i := range 1050 {
		seed.Customers = append(seed.Customers, map[string]string{
			"reference": fmt.Sprintf("L-%04d", i), "name": fmt.Sprintf("Customer %d", i), "categoryId": "retail",
		})
	}
	// Touch customers in reverse order, one second apart, so that the order
	// by lastUpdated differs from the order of creation.
	clock := simtest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) // after the seed's real-time stamps
	ts := simtest.Serve(t, simtest.Setup{Seed: &seed, StoreClock: clock.Now})
	sim, store := ts.Server, ts.Store
	for i := 1049; i >= 0; i -= 3 {
		clock.Advance(time.Second)
		if _, err := store.Put(fmt.Sprintf("L-%04d", i), map[string]string{"email": fmt.Sprintf("c%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c := MustClient(t, ts.URL, crm.Config{})

	var got []crm.Customer
	for cu, err := range c.List(context.Background(), crm.ListQuery{Sort: "lastUpdated", Order: "asc"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cu)
	}
	if len(got) != 1050 {
		t.Fatalf("walked %d customers, want 1050", len(got))
	}
	seen := map[string]bool{}
	for i, cu := range got {
		if seen[cu.Reference] {
			t.Fatalf("%s twice", cu.Reference)
		}
		seen[cu.Reference] = true
		if i > 0 && cu.LastUpdated.Before(got[i-1].LastUpdated.Time) {
			t.Fatalf("not sorted by lastUpdated at %d: %s after %s", i, cu.LastUpdated, got[i-1].LastUpdated)
		}
	}
	if n := sim.Stats()[crm.OpList]; n != 11 {
		t.Errorf("list requests = %d, want 11 pages of 100", n)
	}

	t.Run("filters", func(t *testing.T) {
		active := true
		q := crm.ListQuery{Reference: "L-00*", IsActive: &active, LastUpdatedGte: time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC), Max: 7}
		var n int
		for cu, err := range c.List(context.Background(), q) {
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(cu.Reference, "L-00") || cu.Email == nil {
				t.Errorf("unexpected %s", cu.Reference)
			}
			n++
		}
		if n != 33 { // touched: i ≡ 2 (mod 3), and 2, 5, … 98 are the 33 of them below 100
			t.Errorf("filtered walk gave %d, want 33", n)
		}
	})

	t.Run("bad filter", func(t *testing.T) {
		page, err := c.ListPage(context.Background(), crm.ListQuery{Order: "sideways"})
		var apiErr *crm.APIError
		if page != nil || !errors.As(err, &apiErr) || apiErr.Code != crm.CodeInvalidParamType {
			t.Errorf("err = %v", err)
		}
	})
}

// BenchmarkUpsert measures upserts per second client → crmsim on loopback.
func BenchmarkUpsert(b *testing.B) {
	for _, conc := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			_, ts := MustSim(b, crmsim.Options{})
			c := MustClient(b, ts.URL, crm.Config{Concurrency: conc})
			f := upsertForm("Benchmark customer").Set("billingCity", "Nice").Set("billingCountry", "FR")
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			done := make(chan error, conc)
			for range conc {
				go func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							done <- nil
							return
						}
						if _, err := c.Upsert(context.Background(), fmt.Sprintf("B-%d", i%5000), f); err != nil {
							done <- err
							return
						}
					}
				}()
			}
			for range conc {
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "upserts/s")
		})
	}
}
