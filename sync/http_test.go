package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/internal/testrig"
)

// The tests of the engine about what HTTP alone shows: an answer the
// client cannot decode. The others run on crmmem (testrig.NewFake).

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
	job, sim := engineJobOn(t, testrig.Memory, 30, 0)
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
