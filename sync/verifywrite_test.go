package sync_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"erpsync/sync"
	"erpsync/sync/crm/crmsim"
)

// parentDigitsAsID is a front before crmsim that reads a digits-only
// parentCustomer of an upsert as the parent's id, as some CRMs do (the
// reference says "Long/String"): the sub-customer is attached to the
// customer of that id, whatever its reference.
func parentDigitsAsID(store *crmsim.Store) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/customers/reference/") {
				if err := r.ParseForm(); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				if id, err := strconv.ParseInt(r.PostForm.Get("parentCustomer"), 10, 64); err == nil {
					if c, aerr := store.Show(id); aerr == nil {
						r.PostForm.Set("parentCustomer", c.Reference)
					}
				}
				body := r.PostForm.Encode()
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
				r.Form, r.PostForm = nil, nil
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestRun_StoredValueDiffersIsRowFailure (issue 21 §4): the upsert's
// answer is compared with what was sent. A CRM that reads the
// digits-only parent "1" as the id 1 attaches SUB to OTHER: a row
// failure naming the field, what was stored and what was sent (exit 1),
// recorded, and SUB is planned again by the next run, never unchanged.
func TestRun_StoredValueDiffersIsRowFailure(t *testing.T) {
	var c *csvJob
	c = newCSVJob(t, csvConfig(), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			parentDigitsAsID(c.store)(next).ServeHTTP(w, r)
		})
	})
	if _, err := c.store.Put("OTHER", map[string]string{"name": "Another customer, id 1"}); err != nil {
		t.Fatal(err)
	}
	export := []string{"reference;name;parent;email", "1;One;;", "SUB;Sub of one;1;"}
	for run := 1; run <= 2; run++ {
		out, err := c.run(t, export...)
		if got := sync.Classify(err); got != sync.ClassRowFailures {
			t.Fatalf("run %d = %v (class %d), want row failures (1)", run, err, got)
		}
		checkAccount(t, out.Dir)
		var subPlanned bool
		for a := range out.Plan.All() {
			subPlanned = subPlanned || a.Reference == "SUB"
		}
		if !subPlanned {
			t.Errorf("run %d: SUB not planned (unchanged %d): its stored parent differs from the one sent", run, out.Plan.Unchanged)
		}
		var msg string
		for _, r := range reportLines(t, out, "errors.csv") {
			if r[1] == "SUB" {
				msg = strings.Join(r, " ")
			}
		}
		if want := `the CRM stored "OTHER" for field parentCustomer, sent "1"`; !strings.Contains(msg, want) {
			t.Errorf("run %d: errors.csv on SUB: %q, want %q", run, msg, want)
		}
		fs := failuresOf(t, c)
		if len(fs) != 1 || fs[0].Reference != "SUB" {
			t.Errorf("run %d: failures recorded %+v, want SUB's", run, fs)
		}
	}
}
