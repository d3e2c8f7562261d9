package simtest_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

func TestClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	c := simtest.NewClock(at)
	if c.Now() != at || c.Now() != at {
		t.Errorf("a still clock moved: %s", c.Now())
	}
	c.Advance(time.Second)
	if c.Now() != at.Add(time.Second) {
		t.Errorf("after Advance: %s", c.Now())
	}
	c.Set(at)
	if c.Now() != at {
		t.Errorf("after Set: %s", c.Now())
	}
	s := simtest.Stepping(at, time.Millisecond)
	if a, b := s.Now(), s.Now(); b.Sub(a) != time.Millisecond || a != at.Add(time.Millisecond) {
		t.Errorf("a stepping clock read %s then %s", a, b)
	}
	ahead := simtest.Ahead()
	ahead.Advance(time.Hour)
	if d := time.Until(ahead.Now()); d < 59*time.Minute || d > time.Hour {
		t.Errorf("an Ahead clock moved on by an hour is %s ahead", d)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	clock := simtest.NewClock(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC))
	var fronted atomic.Bool
	sim := simtest.Serve(t, simtest.Setup{Options: crmsim.Options{Token: "t"}, StoreClock: clock.Now,
		Front: func(s *crmsim.Server) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fronted.Store(true); s.ServeHTTP(w, r) })
		}})
	client, err := crm.NewClient(crm.Config{BaseURL: sim.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Upsert(t.Context(), "K-1", crm.NewForm().Set("name", "K")); err != nil {
		t.Fatal(err)
	}
	c, ok := sim.Store.ByReference("K-1")
	if !ok || !fronted.Load() || sim.Server.Stats()[crm.OpUpsert] != 1 {
		t.Fatalf("the upsert did not reach the store through the front: %v %v %v", ok, fronted.Load(), sim.Server.Stats())
	}
	if !c.LastUpdated.Equal(clock.Now()) {
		t.Errorf("lastUpdated %v, want the store's clock %s", c.LastUpdated, clock.Now())
	}
}
