package testrig

import (
	"fmt"
	"net/http"
	gosync "sync"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/plan"
	"erpsync/sync/plan/plantest"
)

// CRMGoesAway is the guarantee "nothing unanswered is recorded" on a
// checkpoint of impl, through its batched writer (Rig.Run): the CRM
// answers five upserts of 60, then drops every connection unanswered.
// The run must end on the CRM unreachable, with few requests after the
// fall, and the checkpoint must hold exactly the customers whose answer
// was counted: none unanswered, no failure. apply's tests run it on
// memstate; package sync's on SQLite.
func CRMGoesAway(t *testing.T, impl Impl) {
	t.Helper()
	const concurrency, answered = 4, 5
	rows := make([]mapping.Row, 60)
	for i := range rows {
		rows[i] = plantest.Cust(i+2, fmt.Sprintf("R%02d", i))
	}
	r := NewOn(t, impl, crmsim.Options{}, "", concurrency)
	arrived := r.dropAfter(t, answered)
	_, sum, err := r.Run(t, rows, plan.Options{}, apply.Options{RunID: 1, Concurrency: concurrency, MaxFailures: EveryFailure})
	if !crm.IsUnreachable(err) {
		t.Fatalf("Apply = %v, want the CRM unreachable", err)
	}
	if total := arrived(); total > answered+2*concurrency {
		t.Errorf("%d requests reached the CRM, want at most %d", total, answered+2*concurrency)
	}
	// The sixth request went out once two of the first five were done;
	// an answer still being read when the wave was cancelled is not
	// recorded (the next run sends it again).
	created := sum.OK[plan.OpCreate]
	if created < 2 || created > answered || sum.Failed[plan.OpCreate] != 0 {
		t.Errorf("summary: %d created, %d failed; want 2 to %d and 0", created, sum.Failed[plan.OpCreate], answered)
	}
	if n, fs := r.Count(t), r.Failures(t); n != created || len(fs) != 0 {
		t.Errorf("checkpoint: %d records, %d failures; want the %d created and no failure", n, len(fs), created)
	}
}

// dropAfter lets the first n requests through and drops the connection
// of every later one unanswered; it returns the count of requests met.
func (r *Rig) dropAfter(t *testing.T, n int) (arrived func() int) {
	var mu gosync.Mutex
	met := 0
	r.Before = func(w http.ResponseWriter, req *http.Request) bool {
		mu.Lock()
		met++
		k := met
		mu.Unlock()
		if k <= n {
			return false
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return false
		}
		conn.Close()
		return true
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return met
	}
}
