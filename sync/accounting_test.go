package sync_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmmem"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/report"
)

// failingFront answers some writes itself, before crmsim (crmmem's
// Before): a 400 for references ending in "7" (a row failure), and from
// the nth write on, a 401 (auth refused: fatal) when fatalAfter > 0.
type failingFront struct {
	fatalAfter int64
	writes     atomic.Int64
}

func (f *failingFront) before(op, ref string) error {
	if op != crm.OpUpsert {
		return nil
	}
	n := f.writes.Add(1)
	switch {
	case f.fatalAfter > 0 && n > f.fatalAfter:
		return &crm.APIError{Status: http.StatusUnauthorized, Code: crm.CodeInvalidToken, Description: "refused", Op: op}
	case strings.HasSuffix(ref, "7"):
		return &crm.APIError{Status: http.StatusBadRequest, Code: crm.CodeInvalidParam, Description: "refused by the test", Op: op}
	}
	return nil
}

// TestRun_EveryRowAccounted: whatever the end (done, row failures, a
// guard, an interruption, a fatal error), every row read is in exactly one
// of the summary's figures, and every reference sent, failed or not sent
// is in exactly one line of success.csv or errors.csv.
func TestRun_EveryRowAccounted(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and clock
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		for _, tc := range []struct {
			name       string
			fatalAfter int64
			budget     plan.Limit
			cancelAt   int64 // cancel the run's context after this many writes
			latency    time.Duration
			want       sync.Class
		}{
			{name: "row failures", budget: plan.Limit{Percent: 50, IsPercent: true}, want: sync.ClassRowFailures},
			{name: "guard", budget: plan.Limit{Count: 3}, want: sync.ClassGuard},
			{name: "interrupted", budget: plan.Limit{Percent: 50, IsPercent: true}, cancelAt: 40, want: sync.ClassFatal,
				latency: time.Millisecond}, // calls in flight when the run is cancelled
			{name: "fatal", fatalAfter: 60, budget: plan.Limit{Percent: 50, IsPercent: true}, want: sync.ClassFatal},
		} {
			t.Run(tc.name, func(t *testing.T) {
				job, front := accountingJob(t, impl, 150, tc.fatalAfter, tc.latency)
				job.Settings.MaxFailures = tc.budget
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.cancelAt > 0 {
					var once gosync.Once
					job.OnResult = func(apply.Result) {
						if front.writes.Load() >= tc.cancelAt {
							once.Do(cancel)
						}
					}
				}
				out, err := sync.Run(ctx, job)
				if got := sync.Classify(err); got != tc.want {
					t.Fatalf("Run = %v (class %d), want class %d", err, got, tc.want)
				}
				checkAccount(t, out.Dir)
			})
		}
	})
}

// accountingJob is engineJobOn with the failing front before crmsim.
func accountingJob(t *testing.T, impl testrig.Impl, rows int, fatalAfter int64, latency time.Duration) (sync.Job, *failingFront) {
	job, _ := engineJobOn(t, impl, rows, latency)
	front := &failingFront{fatalAfter: fatalAfter}
	job.CRM.(*crmmem.CRM).Before = front.before
	return job, front
}

// checkAccount reads a run's summary.json and CSV files and checks that
// they account for every row once.
func checkAccount(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s report.Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	a := s.Rows
	if a == nil || a.Read == 0 {
		t.Fatalf("summary has no row account: %s", raw)
	}
	if sum := a.Sent + a.Failed + a.NotSent + a.Invalid + a.Unchanged + a.Merged + a.Ignored + a.Skipped; sum != a.Read {
		t.Errorf("rows: %+v add up to %d, want %d read", *a, sum, a.Read)
	}
	seen := map[string]int{}
	lines := map[string]int{}
	for _, name := range []string{"success.csv", "errors.csv"} {
		for _, l := range reportRows[report.OutcomeLine](t, dir, name) {
			seen[l.Reference]++
			lines[name+" "+l.Error]++
			if name == "success.csv" && l.HTTPStatus != "200" && l.HTTPStatus != "201" {
				t.Errorf("success.csv line %+v: http_status %q, want the CRM's 200 or 201", l, l.HTTPStatus)
			}
		}
	}
	for ref, n := range seen {
		if n != 1 {
			t.Errorf("reference %s is in %d lines of the reports, want 1", ref, n)
		}
	}
	if got := lines["success.csv "]; got != a.Sent+s.NotInExport["sent"] {
		t.Errorf("success.csv has %d lines, the summary says %d sent", got, a.Sent)
	}
	if got := lines["errors.csv not_sent"]; got != a.NotSent+s.NotInExport["not_sent"] {
		t.Errorf("errors.csv has %d not_sent lines, the summary says %d", got, a.NotSent)
	}
	t.Logf("%s: %+v, not in export %v", s.Status, *a, s.NotInExport)
	if a.NotSent == 0 && s.Status != "done with failures" {
		t.Errorf("status %s with nothing not sent", s.Status)
	}
}
