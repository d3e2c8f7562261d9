package apply_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/state/memstate"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
)

// TestApply_ReaderRunsAhead: while every worker waits for the CRM's
// answer, the wave's reader goes on making the next actions ready (a few
// per worker), so that a worker whose answer came takes its next action
// at once. With a queue of no room, each worker waited for the reader to
// read and map the next row: 8% of an import's sending time at 200,000
// rows (issue 25 §3). The actions read ahead are all sent, once.
func TestApply_ReaderRunsAhead(t *testing.T) {
	const conc, n = 2, 40
	rows := make([]mapping.Row, n)
	for i := range rows {
		rows[i] = plantest.Cust(i+2, fmt.Sprintf("R%03d", i), fmt.Sprintf("email=r%d@example.com", i))
	}
	db := memstate.New()
	t.Cleanup(func() { db.Close() })
	p, err := plan.Build(context.Background(), plantest.Rows(rows...), db, plan.Options{ImportOnly: true, Lean: true})
	if err != nil {
		t.Fatal(err)
	}
	gate, arrived := make(chan struct{}), make(chan struct{}, n)
	sim := simtest.Serve(t, simtest.Setup{Front: func(s *crmsim.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-gate // every answer waits until the test lets them go
			s.ServeHTTP(w, r)
		})
	}})
	client, err := crm.NewClient(crm.Config{BaseURL: sim.URL})
	if err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	reread := func(fn func(mapping.Row) error) error {
		return plantest.Rows(rows...)(func(r mapping.Row) error {
			read.Add(1)
			return fn(r)
		})
	}
	w := db.NewWriter(100, 10*time.Millisecond)
	type result struct {
		sum *apply.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := apply.Run(context.Background(), p, client, w, apply.Options{RunID: 1, Concurrency: conc, Rows: reread,
			MaxFailures: plan.Limit{Percent: 100, IsPercent: true}})
		done <- result{sum, err}
	}()
	for range conc {
		<-arrived // every worker waits for an answer
	}
	// Today's reader: conc rows in the workers, one waiting to be taken.
	// Ahead: at least two more a worker. A bounded wait for the reader to
	// get there, not a measure of time.
	const want = 3*conc + 1
	for i := 0; read.Load() < want && i < 2000; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	got := read.Load()
	close(gate)
	res := <-done
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got < want {
		t.Errorf("the reader read %d rows while %d workers waited for answers, want at least %d", got, conc, want)
	}
	if res.sum.OK[plan.OpCreate] != n || res.sum.Skipped != 0 {
		t.Errorf("summary = %+v, want %d created", res.sum, n)
	}
	if count, err := db.Count(context.Background()); err != nil || count != n {
		t.Errorf("checkpoint holds %d records (%v), want %d", count, err, n)
	}
}
