package sync_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan"
	"erpsync/sync/report"
)

// failingFront answers some writes itself, in front of crmsim: a 400 for
// references ending in "7" (a row failure), and from the nth write on, a
// 401 (auth refused: fatal) when fatalAfter > 0.
type failingFront struct {
	next       http.Handler
	fatalAfter int64
	writes     atomic.Int64
}

func (f *failingFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		n := f.writes.Add(1)
		switch {
		case f.fatalAfter > 0 && n > f.fatalAfter:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_token","error_description":"refused"}`))
			return
		case strings.HasSuffix(r.URL.Path, "7"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_param","error_description":"refused by the test"}`))
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

// TestRun_EveryRowAccounted: whatever the end (done, row failures, a
// guard, an interruption, a fatal error), every row read is in exactly one
// of the summary's figures, and every reference sent, failed or not sent
// is in exactly one line of success.csv or errors.csv.
func TestRun_EveryRowAccounted(t *testing.T) {
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		for _, tc := range []struct {
			name       string
			fatalAfter int64
			budget     plan.Limit
			cancelAt   int64 // cancel the run's context after this many writes
			want       sync.Class
		}{
			{name: "row failures", budget: plan.Limit{Percent: 50, IsPercent: true}, want: sync.ClassRowFailures},
			{name: "guard", budget: plan.Limit{Count: 3}, want: sync.ClassGuard},
			{name: "interrupted", budget: plan.Limit{Percent: 50, IsPercent: true}, cancelAt: 40, want: sync.ClassFatal},
			{name: "fatal", fatalAfter: 60, budget: plan.Limit{Percent: 50, IsPercent: true}, want: sync.ClassFatal},
		} {
			t.Run(tc.name, func(t *testing.T) {
				job, front := accountingJob(t, impl, 300, tc.fatalAfter)
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
func accountingJob(t *testing.T, impl testrig.Impl, rows int, fatalAfter int64) (sync.Job, *failingFront) {
	job, sim := engineJobOn(t, impl, rows, time.Millisecond)
	front := &failingFront{next: sim, fatalAfter: fatalAfter}
	ts := httptest.NewServer(front)
	t.Cleanup(ts.Close)
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	job.CRM = client
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
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			seen[r[1]]++
			lines[name+" "+r[4]]++
			if name == "success.csv" && r[3] != "200" && r[3] != "201" {
				t.Errorf("success.csv line %q: http_status %q, want the CRM's 200 or 201", r, r[3])
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

// mangleFront breaks one record in front of crmsim, in every list answer
// and in the answer for its reference: it gets an id the decoder cannot
// read, as a real CRM would answer it everywhere.
type mangleFront struct {
	next http.Handler
	ref  string
}

func (f mangleFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A list answer, or the answer for the reference: both hold the record.
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/customers") && !strings.HasSuffix(r.URL.Path, "/reference/"+f.ref) {
		f.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	body := rec.Body.String()
	if i := strings.Index(body, `"reference":"`+f.ref+`"`); i >= 0 {
		if j := strings.LastIndex(body[:i], `{"id":`); j >= 0 {
			body = body[:j] + `{"id":{"broken":true},"x":` + body[j+len(`{"id":`):]
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write([]byte(body))
}

// TestRun_UnreadableCRMRecordReported: a CRM record the refresh cannot
// read is reported (errors.csv, summary.json) and the run ends with row
// failures instead of passing it over in silence.
func TestRun_UnreadableCRMRecordReported(t *testing.T) {
	job, sim := engineJob(t, 30, 0)
	job.Mode = sync.ModeImport
	if _, err := sync.Run(context.Background(), job); err != nil {
		t.Fatalf("import: %v", err)
	}
	const ref = "K00000005" // genexport's sixth row
	if _, ok := sim.Store.ByReference(ref); !ok {
		t.Fatalf("%s not imported", ref)
	}
	ts := httptest.NewServer(mangleFront{next: sim, ref: ref})
	t.Cleanup(ts.Close)
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	job.CRM, job.Mode = client, sync.ModeRun
	job.Settings.FullCheck = time.Nanosecond // walk everything: the broken record is met
	out, err := sync.Run(context.Background(), job)
	if sync.Classify(err) != sync.ClassRowFailures {
		t.Fatalf("Run = %v, want row failures", err)
	}
	raw, _ := os.ReadFile(filepath.Join(out.Dir, "summary.json"))
	errs, _ := os.ReadFile(filepath.Join(out.Dir, "errors.csv"))
	if !strings.Contains(string(raw), `"unreadable_crm_records": 1`) || !strings.Contains(string(errs), "unreadable_record") {
		t.Errorf("the unreadable record is not reported:\n%s\n%s", raw, errs)
	}
}
