package crmmem_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmmem"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

var _ sync.CRM = (*crmmem.CRM)(nil)

// subject is one implementation of sync.CRM under the contract, over its
// crmsim (its store for hand work, its counts) on a clock of the test's.
type subject struct {
	api sync.CRM
	sim *crmsim.Server
	now *simtest.Clock
	// refuse makes the next calls of op answer status and code, as the
	// CRM's refusal (a front before crmsim for the client, Before for the
	// fake).
	refuse func(op string, status int, code string)
}

// arm builds a subject on a crmsim of opts.
type arm func(t *testing.T, opts crmsim.Options) *subject

func newSim(t *testing.T, opts crmsim.Options) (*crmsim.Server, *simtest.Clock) {
	t.Helper()
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	c := simtest.NewClock(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)) // moves only when told
	opts.Now = c.Now
	return crmsim.New(store, opts), c
}

// overHTTP is crm.Client over loopback crmsim, with no retries.
func overHTTP(t *testing.T, opts crmsim.Options) *subject {
	sim, c := newSim(t, opts)
	var refused gosync.Map // op → [2]any{status, code}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := refused.Load(opOf(r)); ok {
			st := v.([2]any)
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			w.WriteHeader(st[0].(int))
			fmt.Fprintf(w, `{"error":%q,"error_description":"refused by the test"}`, st[1])
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Retries: -1, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return &subject{api: client, sim: sim, now: c, refuse: func(op string, status int, code string) {
		refused.Store(op, [2]any{status, code})
	}}
}

// opOf names a request's operation as crm.Op* do.
func opOf(r *http.Request) string {
	_, rest, _ := strings.Cut(r.URL.Path, "/customers")
	switch {
	case rest == "":
		return r.Method + " /customers"
	case strings.HasPrefix(rest, "/reference/"):
		return r.Method + " /customers/reference/{id}"
	}
	return r.Method + " /customers/{id}"
}

// inMemory is the fake over crmsim in-process.
func inMemory(t *testing.T, opts crmsim.Options) *subject {
	sim, c := newSim(t, opts)
	fake, err := crmmem.New(sim)
	if err != nil {
		t.Fatal(err)
	}
	fake.PageSize = 2
	var refused gosync.Map
	fake.Before = func(op, _ string) error {
		if v, ok := refused.Load(op); ok {
			st := v.([2]any)
			return &crm.APIError{Status: st[0].(int), Code: st[1].(string), Description: "refused by the test", Op: op}
		}
		return nil
	}
	return &subject{api: fake, sim: sim, now: c, refuse: func(op string, status int, code string) {
		refused.Store(op, [2]any{status, code})
	}}
}

// step is one call of the contract: it checks what any implementation
// must answer, and returns what it answered, which both must answer alike.
type step struct {
	name string
	run  func(t *testing.T, s *subject) string
}

// TestContract runs the same calls on crm.Client over loopback crmsim and
// on crmmem, checks what each must answer, and wants both to answer the
// same: customers member by member, statuses, errors' status, code,
// description and class, paging, and crmsim's counts.
func TestContract(t *testing.T) {
	for _, script := range scripts() {
		t.Run(script.name, func(t *testing.T) {
			var said [2][]string
			for i, a := range []arm{overHTTP, inMemory} {
				s := a(t, script.opts)
				for _, st := range script.steps {
					said[i] = append(said[i], st.name+": "+st.run(t, s))
				}
				said[i] = append(said[i], "stats: "+say(s.sim.Stats())+" "+say(s.api.Stats()))
			}
			t.Logf("both answered:\n%s", strings.Join(said[1], "\n"))
			for i := range said[0] {
				if said[0][i] != said[1][i] {
					t.Errorf("the client over HTTP and the fake differ:\nhttp: %s\nmem:  %s", said[0][i], said[1][i])
				}
			}
		})
	}
}

type script struct {
	name  string
	opts  crmsim.Options
	steps []step
}

var ctx = context.Background()

// say writes v as JSON, for comparison.
func say(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unencodable: " + err.Error()
	}
	return string(b)
}

// sayCustomer writes a customer with its answer's status.
func sayCustomer(c *crm.Customer, err error) string {
	if err != nil {
		return sayErr(err)
	}
	return fmt.Sprintf("%d %s", c.AnswerStatus, say(c))
}

// sayErr writes what the engine reads of an error: the API's status, code
// and description, and its class.
func sayErr(err error) string {
	var e *crm.APIError
	if !errors.As(err, &e) {
		return "error without an answer: " + err.Error()
	}
	return fmt.Sprintf("error %s %d %s %q fatal=%v notfound=%v", e.Op, e.Status, e.Code, e.Description,
		crm.IsFatal(err), crm.IsNotFound(err))
}

func form(kv ...string) *crm.Form {
	f := crm.NewForm()
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func upsert(t *testing.T, s *subject, ref string, kv ...string) (*crm.Customer, error) {
	t.Helper()
	return s.api.Upsert(ctx, ref, form(kv...))
}

// wantStatus checks an answer's status, or its error's.
func wantStatus(t *testing.T, what string, c *crm.Customer, err error, status int) {
	t.Helper()
	var e *crm.APIError
	switch {
	case err == nil && c.AnswerStatus != status, err != nil && (!errors.As(err, &e) || e.Status != status):
		t.Errorf("%s: %s, want status %d", what, sayCustomer(c, err), status)
	}
}

func scripts() []script {
	return []script{
		{name: "writes", steps: []step{
			{name: "create", run: stepCreate},
			{name: "update by reference", run: stepUpdate},
			{name: "sub-customer", run: stepSubCustomer},
			{name: "refused row", run: stepRefused},
			{name: "delete", run: stepDelete},
		}},
		{name: "reads", steps: []step{
			{name: "list since", run: stepListSince},
			{name: "count", run: stepCount},
			{name: "read by references", run: stepReadByReferences},
		}},
		{name: "milliseconds", opts: crmsim.Options{TimePrecision: "ms"}, steps: []step{
			{name: "create", run: stepMillis},
		}},
		{name: "references ignoring case", opts: crmsim.Options{Quirks: crmsim.Quirks{References: "ci"}}, steps: []step{
			{name: "one customer", run: stepFolded},
		}},
		{name: "refusals", steps: []step{
			{name: "fatal answer", run: stepFatal},
		}},
		{name: "faults", opts: crmsim.Options{FailRate: 1}, steps: []step{
			{name: "server error", run: stepServerError},
		}},
	}
}

func stepCreate(t *testing.T, s *subject) string {
	c, err := upsert(t, s, "C1", "name", "One", "email", "one@example.com", "creditLimit", "1500.5", "paymentTypes", `[{"id":8},{"id":7}]`)
	wantStatus(t, "create", c, err, http.StatusCreated)
	if err == nil && (c.Name != "One" || c.LastUpdated.IsZero() || len(c.PaymentTypes) != 2) {
		t.Errorf("created %s", say(c))
	}
	return sayCustomer(c, err)
}

func stepUpdate(t *testing.T, s *subject) string {
	s.now.Advance(90 * time.Second)
	same, err := upsert(t, s, "C1", "name", "One")
	wantStatus(t, "the same values again", same, err, http.StatusOK)
	s.now.Advance(90 * time.Second)
	c, err := upsert(t, s, "C1", "name", "One renamed", "email", "")
	wantStatus(t, "update", c, err, http.StatusOK)
	if err == nil && (same == nil || !c.LastUpdated.After(same.LastUpdated.Time) || c.Email != nil) {
		t.Errorf("updated %s after %s: want a later lastUpdated and the email cleared", say(c), say(same))
	}
	return sayCustomer(same, nil) + " then " + sayCustomer(c, err)
}

func stepSubCustomer(t *testing.T, s *subject) string {
	c, err := upsert(t, s, "C2", "name", "Two", "parentCustomer", "C1", "isSubCustomer", "true")
	wantStatus(t, "sub-customer", c, err, http.StatusCreated)
	if err == nil && (c.ParentCustomer == nil || c.ParentCustomer.Reference != "C1") {
		t.Errorf("sub-customer %s: want its parent C1", say(c))
	}
	orphan, err2 := upsert(t, s, "C3", "name", "Three", "parentCustomer", "NOSUCH")
	wantStatus(t, "a parent that does not exist", orphan, err2, http.StatusNotFound)
	return sayCustomer(c, err) + " then " + sayCustomer(orphan, err2)
}

func stepRefused(t *testing.T, s *subject) string {
	var out []string
	for _, tc := range []struct {
		kv     []string
		status int
	}{
		{[]string{"name", "Bad", "creditLimit", "a lot"}, http.StatusBadRequest},
		{[]string{"name", "Bad", "currency", "GBP"}, http.StatusNotFound}, // exists, not configured
		{[]string{"name", "Bad", "noSuchField", "x"}, http.StatusBadRequest},
	} {
		c, err := upsert(t, s, "BAD", tc.kv...)
		wantStatus(t, "refused "+tc.kv[2], c, err, tc.status)
		out = append(out, sayCustomer(c, err))
	}
	if _, err := s.api.ShowByReference(ctx, "BAD"); !crm.IsNotFound(err) {
		t.Errorf("a refused row was stored: %v", err)
	}
	return strings.Join(out, " then ")
}

func stepDelete(t *testing.T, s *subject) string {
	var out []string
	for _, ref := range []string{"C1", "C2", "C1", "C1"} { // the parent refused while it has a sub-customer
		st, err := s.api.DeleteByReferenceStatus(ctx, ref)
		if err != nil {
			out = append(out, sayErr(err)+fmt.Sprint(" status ", st))
			continue
		}
		out = append(out, fmt.Sprint(st))
	}
	if want := []string{"error", "200", "200", "error"}; !strings.HasPrefix(out[0], want[0]) || out[1] != want[1] ||
		out[2] != want[2] || !strings.Contains(out[3], "notfound=true") {
		t.Errorf("deletes: %q, want the parent refused, the child then the parent deleted, then 404", out)
	}
	return strings.Join(out, " then ")
}

// seed writes five customers a minute apart and edits one by hand.
func seed(t *testing.T, s *subject) {
	t.Helper()
	for i := range 5 {
		if _, err := upsert(t, s, fmt.Sprintf("R%d", i), "name", fmt.Sprintf("Row %d", i)); err != nil {
			t.Fatal(err)
		}
		s.now.Advance(time.Minute)
	}
	if _, err := s.sim.Store.Put("R1", map[string]string{"name": "by hand"}); err != nil {
		t.Fatal(err)
	}
}

func stepListSince(t *testing.T, s *subject) string {
	seed(t, s)
	since := time.Date(2024, 3, 1, 2, 2, 0, 0, time.UTC)
	q := crm.ListQuery{LastUpdatedGte: since, Sort: "lastUpdated", Order: "asc"}
	var out []string
	var refs []string
	for range 5 {
		p, err := s.api.ListPage(ctx, q)
		if err != nil {
			return sayErr(err)
		}
		out = append(out, say(p.Paging)+" "+say(p.Data))
		for _, c := range p.Data {
			refs = append(refs, c.Reference)
		}
		if !p.More(q) {
			break
		}
		q.Offset += p.Len()
	}
	if got := strings.Join(refs, ","); got != "R2,R3,R4,R1" {
		t.Errorf("changed since %s: %s, want R2,R3,R4 then R1 edited by hand", since, got)
	}
	return strings.Join(out, " | ")
}

func stepCount(t *testing.T, s *subject) string {
	q := crm.ListQuery{Max: 1, LastUpdatedGte: time.Date(2024, 3, 1, 2, 1, 0, 0, time.UTC),
		LastUpdatedLt: time.Date(2024, 3, 1, 2, 4, 0, 0, time.UTC), Sort: "lastUpdated", Order: "asc"}
	p, err := s.api.ListPage(ctx, q)
	if err != nil {
		return sayErr(err)
	}
	if p.Paging.Total != 2 || len(p.Data) != 1 {
		t.Errorf("count: total %d, %d records; want 2 (R2, R3), 1 record", p.Paging.Total, len(p.Data))
	}
	bad, err := s.api.ListPage(ctx, crm.ListQuery{Sort: "color"})
	return say(p.Paging) + " then " + sayErr(err) + fmt.Sprint(bad == nil)
}

func stepReadByReferences(t *testing.T, s *subject) string {
	var out []string
	for _, ref := range []string{"R0", "R1", "NOSUCH"} {
		out = append(out, sayCustomer(s.api.ShowByReference(ctx, ref)))
	}
	if !strings.Contains(out[1], `"name":"by hand"`) || !strings.Contains(out[2], "notfound=true") {
		t.Errorf("read: %q", out)
	}
	return strings.Join(out, " then ")
}

func stepMillis(t *testing.T, s *subject) string {
	s.now.Advance(1234 * time.Millisecond)
	c, err := upsert(t, s, "MS", "name", "Milli")
	if err == nil && c.LastUpdated.Nanosecond() != 234_000_000 {
		t.Errorf("lastUpdated %s, want its milliseconds", c.LastUpdated)
	}
	return sayCustomer(c, err) + " " + c.LastUpdated.String()
}

func stepFatal(t *testing.T, s *subject) string {
	s.refuse(crm.OpUpsert, http.StatusUnauthorized, crm.CodeInvalidToken)
	c, err := upsert(t, s, "C1", "name", "One")
	if !crm.IsFatal(err) {
		t.Errorf("401: %s, want fatal", sayCustomer(c, err))
	}
	return sayCustomer(c, err)
}

func stepServerError(t *testing.T, s *subject) string {
	c, err := upsert(t, s, "C1", "name", "One")
	wantStatus(t, "FailRate 1", c, err, http.StatusInternalServerError)
	if crm.IsFatal(err) {
		t.Errorf("500 read as fatal: %v", err)
	}
	return sayCustomer(c, err)
}

// TestNew_RefusesWhatOnlyHTTPShows: a crmsim answering parents by their
// id alone, or asking for a login, is refused: the fake would answer
// otherwise than the client over HTTP.
func TestNew_RefusesWhatOnlyHTTPShows(t *testing.T) {
	for _, opts := range []crmsim.Options{
		{Quirks: crmsim.Quirks{ParentShape: "id"}},
		{Token: "secret"},
		{User: "u", Password: "p"},
	} {
		sim, _ := newSim(t, opts)
		if _, err := crmmem.New(sim); err == nil {
			t.Errorf("New over %+v: no error", opts)
		}
	}
	sim, _ := newSim(t, crmsim.Options{Quirks: crmsim.Quirks{References: "ci", ParentDigits: "id"}})
	if _, err := crmmem.New(sim); err != nil {
		t.Errorf("New over the store's quirks: %v", err)
	}
}

func stepFolded(t *testing.T, s *subject) string {
	first, err := upsert(t, s, "K-1", "name", "Upper")
	wantStatus(t, "create K-1", first, err, http.StatusCreated)
	again, err2 := upsert(t, s, "k-1", "name", "Lower")
	wantStatus(t, "upsert k-1", again, err2, http.StatusOK)
	shown, err3 := s.api.ShowByReference(ctx, "k-1")
	if err3 != nil || shown.Reference != "K-1" || shown.Name != "Lower" || s.sim.Store.Len() != 1 {
		t.Errorf("k-1 read: %s; want K-1 alone, renamed", sayCustomer(shown, err3))
	}
	return sayCustomer(first, err) + " then " + sayCustomer(again, err2) + " then " + sayCustomer(shown, err3)
}
