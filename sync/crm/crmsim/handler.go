// Package crmsim simulates the CRM's Customers API (reference version 2.1)
// in memory: every endpoint with the reference's status codes, bodies and
// messages, the session login of the real CRM, the stored images at their
// logo links, limits a real server may have (page cap, API versions,
// millisecond dates), fault injection (latency, 5xx, 429, auth) and
// request counts at GET /_sim/stats. Tests, benchmarks and the demo talk
// to it over real HTTP; only cmd/crmsim and the demo import it outside
// tests. It is an independent reading of the reference: its parameter
// tables, validation and the members of its answers are its own, not the
// client's (it stores customers in the client's Go types, crm.Customer and
// the nested objects, and uses its operation names for the stats).
package crmsim

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"erpsync/sync/crm"
)

// Options are the simulator's faults, auth and server limits. The zero
// value is the simulator as the demo and most tests use it.
type Options struct {
	// Token, when set, is a Bearer token accepted on every API call. Alone,
	// it is the only credential accepted: others get 401 invalid_token.
	Token string
	// User and Password, when set, turn on the session login of the real
	// CRM (POST /j_spring_security_check, then /login/ajaxSuccess); every
	// API call then needs a session (JSESSIONID cookie and Authorization:
	// Bearer <token>) or Token, else 401 no_credentials.
	User, Password string
	// SessionTTL ends a session this long after its login; 0 never does.
	SessionTTL time.Duration
	// Now is the clock of sessions and, when set, of the store's dates
	// (New sets Store.Now to it). Nil: the store's clock.
	Now func() time.Time
	// MaxPageSize caps the list's max as a server may; the answer's
	// paging.max says the cap used. 0: no cap.
	MaxPageSize int
	// TimePrecision of dateCreated and lastUpdated: "s" (the default, as
	// the reference's examples) or "ms".
	TimePrecision string
	// Versions are the API versions answered (e.g. "v1.0"); others get 404.
	// Empty: DefaultVersions.
	Versions []string
	// Latency delays every API answer, with a jitter of ±10%.
	Latency time.Duration
	// FailRate is the share of API requests answered 500 server_error.
	FailRate float64
	// ThrottleRate is the share of API requests answered 429 with
	// Retry-After: 1.
	ThrottleRate float64
	// RetryAfter is the Retry-After of those answers, in whole seconds;
	// "" is "1". "0" throttles without a wait: tests of retries under
	// throttling that need not wait a second each.
	RetryAfter string
	// FaultSeed makes the faults reproducible; 0 picks one at random.
	FaultSeed uint64
	// Quirks are behaviours of the real CRM that the reference does not
	// show, off by default.
	Quirks
}

// Quirks are what the real CRM does where the reference is silent or
// where its examples differ from it: each one off by default, on by a flag
// of cmd/crmsim, so that a test meets them on purpose.
type Quirks struct {
	// SessionRequests ends a session after this many API requests (the
	// next one answers 401 no_credentials, as a call without a session);
	// 0 never does. With SessionTTL, whichever comes first.
	SessionRequests int
	// References "ci" compares references ignoring case, accents and
	// trailing spaces (a database collation such as MySQL's
	// utf8mb4_general_ci): an upsert of "k-1" updates "K-1". "" or
	// "exact" compares them byte for byte.
	References string
	// ParentDigits "id" reads a digits-only parentCustomer of a write as a
	// customer id, as the reference's type "Long/String" allows; "" or
	// "reference" reads it as a reference, as every other value.
	ParentDigits string
	// ParentShape "id" answers parentCustomer as the parent's bare id (a
	// number); "" or "object" as {"id", "reference", "href"}.
	ParentShape string
	// DueTypeNames are the names under which dueDateConfigType 1 and 2
	// are answered; empty: DefaultDueTypeNames.
	DueTypeNames []string
	// DeprecatedVersions are API versions served with a deprecation
	// warning: a Warning: 299 - "deprecated_version …" header and
	// Deprecation: true on each answer.
	DeprecatedVersions []string
}

// DefaultDueTypeNames are crmsim's names of the due types 1 and 2: the
// reference's for 1; for 2, which the reference never names, a guess.
var DefaultDueTypeNames = []string{"daysAfterInvoiceDate", "daysAfterEndOfInvoiceMonth"}

// validate checks the quirks that a command line may get wrong.
func (q Quirks) validate() error {
	if q.SessionRequests < 0 {
		return errors.New("-session-requests cannot be negative")
	}
	for _, c := range []struct{ flag, v, off, on string }{
		{"-references", q.References, "exact", "ci"},
		{"-parent-digits", q.ParentDigits, "reference", "id"},
		{"-parent-shape", q.ParentShape, "object", "id"},
	} {
		if c.v != "" && c.v != c.off && c.v != c.on {
			return fmt.Errorf("%s %q: want %s or %s", c.flag, c.v, c.off, c.on)
		}
	}
	if n := len(q.DueTypeNames); n != 0 && (n != 2 || q.DueTypeNames[0] == "" || q.DueTypeNames[1] == "" ||
		strings.EqualFold(q.DueTypeNames[0], q.DueTypeNames[1])) {
		return errors.New("-due-type-names: want two different names, of the types 1 and 2")
	}
	for _, v := range q.DeprecatedVersions {
		if v == "" || strings.ContainsAny(v, "/?#") {
			return fmt.Errorf("-deprecated-versions: %q is not a version such as v1.0", v)
		}
	}
	return nil
}

// DefaultVersions are the API versions crmsim answers unless told: the
// reference's own (v2.1), and the one of its paging links (v1.0).
var DefaultVersions = []string{"v1.0", "v2.1"}

// Validate checks options that a command line may get wrong.
func (o Options) Validate() error {
	if o.FailRate < 0 || o.ThrottleRate < 0 || o.FailRate+o.ThrottleRate > 1 {
		return errors.New("-fail-rate and -throttle-rate must be between 0 and 1, and add up to at most 1")
	}
	if (o.User == "") != (o.Password == "") {
		return errors.New("-user and -password go together")
	}
	if o.SessionTTL < 0 || o.MaxPageSize < 0 {
		return errors.New("-session-ttl and -max-page-size cannot be negative")
	}
	if n, err := strconv.Atoi(cmp.Or(o.RetryAfter, "1")); err != nil || n < 0 || n > 86400 {
		return fmt.Errorf("-retry-after %q: want whole seconds, 0 to 86400", o.RetryAfter)
	}
	if _, ok := precisions[o.TimePrecision]; !ok {
		return fmt.Errorf("-time-precision %q: want s or ms", o.TimePrecision)
	}
	for _, v := range o.Versions {
		if v == "" || strings.ContainsAny(v, "/?#") {
			return fmt.Errorf("-versions: %q is not a version such as v2.1", v)
		}
	}
	return o.Quirks.validate()
}

// precisions are the values of TimePrecision: the store's unit and the
// answers' layout.
var precisions = map[string]struct {
	unit   time.Duration
	layout string
}{
	"":   {time.Second, layoutSeconds},
	"s":  {time.Second, layoutSeconds},
	"ms": {time.Millisecond, layoutMillis},
}

// Server is the simulator's HTTP handler.
type Server struct {
	Store      *Store
	opts       Options
	mux        *http.ServeMux
	layout     string
	versions   map[string]bool
	deprecated map[string]bool

	mu       sync.Mutex
	rng      *rand.Rand
	stats    map[string]int64
	sessions map[string]*simSession // session id (also its token) → the session
	logins   int64
}

// maxBody bounds a request body: an image of 2 MB and its form.
const maxBody = 8 << 20

// New returns a handler over store. Options that concern the store (Now,
// TimePrecision) are set on it. Options that Validate refuses are taken at
// their nearest meaning: an unknown precision as seconds.
func New(store *Store, opts Options) *Server {
	seed := opts.FaultSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	prec, ok := precisions[opts.TimePrecision]
	if !ok {
		prec = precisions["s"]
	}
	store.configure(opts.Now, prec.unit, opts.Quirks)
	if len(opts.Versions) == 0 {
		opts.Versions = DefaultVersions
	}
	s := &Server{
		Store:    store,
		opts:     opts,
		mux:      http.NewServeMux(),
		layout:   prec.layout,
		versions: map[string]bool{}, deprecated: map[string]bool{},
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		stats:    map[string]int64{},
		sessions: map[string]*simSession{},
	}
	for _, v := range opts.Versions {
		s.versions[v] = true
	}
	for _, v := range opts.DeprecatedVersions {
		s.deprecated[v] = true
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.route(crm.OpList, "GET /api/{version}/customers", s.handleList)
	s.route(crm.OpShow, "GET /api/{version}/customers/{id}", s.handleShow)
	s.route(crm.OpShowByReference, "GET /api/{version}/customers/reference/{ref}", s.handleByReference(crm.OpShowByReference, nil))
	s.route(crm.OpCreate, "POST /api/{version}/customers", s.handleCreate)
	s.route(crm.OpUpdate, "POST /api/{version}/customers/{id}", s.handleUpdate)
	s.route(crm.OpUpsert, "POST /api/{version}/customers/reference/{ref}", s.handleByReference(crm.OpUpsert, upsertParams))
	s.route(crm.OpUpsert, "POST /api/{version}/customers/reference/{$}", s.handleByReference(crm.OpUpsert, nil)) // missing_param
	s.route(crm.OpDelete, "DELETE /api/{version}/customers/{id}", s.handleDelete)
	s.route(crm.OpDeleteByReference, "DELETE /api/{version}/customers/reference/{ref}", s.handleByReference(crm.OpDeleteByReference, nil))
	s.mux.HandleFunc("GET /_sim/stats", s.handleStats)
	if s.opts.User != "" {
		s.mux.HandleFunc("POST /j_spring_security_check", s.handleLogin)
		s.mux.HandleFunc("GET /login/ajaxSuccess", s.handleLoginSuccess)
		s.mux.HandleFunc("POST /login/ajaxSuccess", s.handleLoginSuccess)
		s.mux.HandleFunc("GET /login/authfail", s.handleLoginFailure)
	}
	s.mux.HandleFunc("/", s.handleOther)
}

// handleOther serves the stored images, and answers 404 to anything else.
func (s *Server) handleOther(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if img, ok := s.Store.image(r.URL.Path); ok {
			s.count(opImage)
			writeImage(w, r, img)
			return
		}
	}
	s.count("OTHER")
	writeError(w, errNotFound("No such resource."))
}

// NewDefault is a simulator on the built-in seed without faults.
func NewDefault() *Server {
	store, err := NewStore(DefaultSeed())
	if err != nil {
		panic("crmsim: built-in seed: " + err.Error()) // the built-in seed has no customers
	}
	return New(store, Options{})
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Stats returns request counts by operation, e.g. "POST /customers/reference/{id}".
func (s *Server) Stats() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// ResetStats sets every count back to zero, the logins too.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.stats)
	s.logins = 0
}

func (s *Server) count(op string) {
	s.mu.Lock()
	s.stats[op]++
	s.mu.Unlock()
}

// route registers an API endpoint behind the counting, the latency, the
// auth check and the faults.
func (s *Server) route(op, pattern string, h func(http.ResponseWriter, *http.Request) *apiError) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.count(op)
		if !s.delay(r.Context()) {
			return
		}
		if !s.versions[r.PathValue("version")] {
			writeError(w, errVersion(r.PathValue("version")))
			return
		}
		if s.deprecated[r.PathValue("version")] {
			warnDeprecated(w, r.PathValue("version"))
		}
		if err := s.authorize(r); err != nil {
			writeError(w, err)
			return
		}
		if err := s.faults(); err != nil {
			if err.status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", cmp.Or(s.opts.RetryAfter, "1"))
			}
			writeError(w, err)
			return
		}
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// delay sleeps the latency with jitter; false when the caller went away.
func (s *Server) delay(ctx context.Context) bool {
	if s.opts.Latency <= 0 {
		return true
	}
	s.mu.Lock()
	jitter := (s.rng.Float64()*0.2 - 0.1) * float64(s.opts.Latency)
	s.mu.Unlock()
	t := time.NewTimer(s.opts.Latency + time.Duration(jitter))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// faults draws the injected faults: a 429 (ThrottleRate, answered with
// Retry-After: 1), a 500 (FailRate), or nil.
func (s *Server) faults() *apiError {
	if s.opts.ThrottleRate <= 0 && s.opts.FailRate <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch x := s.rng.Float64(); {
	case x < s.opts.ThrottleRate:
		return errThrottled()
	case x < s.opts.ThrottleRate+s.opts.FailRate:
		return errServer()
	}
	return nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) *apiError {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	version := r.PathValue("version")
	pg, items, at, err := s.listPage(q, version, answerKey(version, s.layout))
	if err != nil {
		return err
	}
	if err := s.answers(items, version, at); err != nil {
		writeBody(w, http.StatusOK, nil, err)
		return nil
	}
	writePage(w, pg, items)
	return nil
}

// listPage is a page of the list of q, answers cached for akey ("": copies).
func (s *Server) listPage(q url.Values, version, akey string) (paging, []listed, int64, *apiError) {
	f, err := parseListQuery(q)
	if err != nil {
		return paging{}, nil, 0, err
	}
	if s.opts.MaxPageSize > 0 {
		// As a server capping its pages: the page, paging.max and the links
		// all use the cap.
		f.max = min(f.max, s.opts.MaxPageSize)
	}
	items, total, at := s.Store.list(f, akey)
	pg := paging{Total: total, Max: f.max, Offset: f.offset}
	if f.offset > 0 {
		prev := f.link(version, max(0, f.offset-f.max))
		pg.Previous = &prev
	}
	if f.max > 0 && f.max < total-f.offset { // not offset+max: both may be near MaxInt
		next := f.link(version, f.offset+f.max)
		pg.Next = &next
	}
	return pg, items, at, nil
}

// reply answers a customer (status), or leaves err to route.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, status int, c crm.Customer, err *apiError) *apiError {
	if err == nil {
		writeJSON(w, status, s.render(c, r.PathValue("version")))
	}
	return err
}

func (s *Server) handleShow(w http.ResponseWriter, r *http.Request) *apiError {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Store.Show(id)
	return s.reply(w, r, http.StatusOK, c, err)
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) *apiError {
	p, err := readParams(w, r, createParams)
	if err != nil {
		return err
	}
	c, err := s.Store.Create(p, baseURL(r))
	return s.reply(w, r, http.StatusCreated, c, err)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) *apiError {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := readParams(w, r, updateParams)
	if err != nil {
		return err
	}
	c, err := s.Store.Update(id, p, baseURL(r))
	return s.reply(w, r, http.StatusOK, c, err)
}

// handleByReference reads op's parameters (allowed; nil: none), then byReference.
func (s *Server) handleByReference(op string, allowed []string) func(http.ResponseWriter, *http.Request) *apiError {
	return func(w http.ResponseWriter, r *http.Request) *apiError {
		var p *params
		if allowed != nil {
			var err *apiError
			if p, err = readParams(w, r, allowed); err != nil {
				return err
			}
		}
		status, c, err := s.byReference(op, r.PathValue("ref"), p, baseURL(r))
		if err == nil && op == crm.OpDeleteByReference {
			writeJSON(w, status, deleted)
			return nil
		}
		return s.reply(w, r, status, c, err)
	}
}

// byReference shows, upserts (201 created, as the reference shows; 200
// updated; an empty ref: missing_param) or deletes a customer by reference.
func (s *Server) byReference(op, ref string, p *params, baseURL string) (int, crm.Customer, *apiError) {
	switch op {
	case crm.OpShowByReference:
		c, err := s.Store.ShowByReference(ref)
		return http.StatusOK, c, err
	case crm.OpDeleteByReference:
		return http.StatusOK, crm.Customer{}, s.Store.DeleteByReference(ref)
	}
	if ref == "" {
		return 0, crm.Customer{}, errMissing("reference")
	}
	c, created, err := s.Store.Upsert(ref, p, baseURL)
	if created {
		return http.StatusCreated, c, err
	}
	return http.StatusOK, c, err
}

// deleted is the reference's delete success body.
var deleted = map[string]string{"success": "true", "success_description": "Instance deleted successfully"}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) *apiError {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Store.Delete(id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted)
	return nil
}

// handleStats answers the request counts, and the logins when the session
// login is on.
func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	body := map[string]any{"requests": s.Stats()}
	if s.opts.User != "" {
		body["logins"] = s.Logins()
	}
	writeJSON(w, http.StatusOK, body)
}

func pathID(r *http.Request) (int64, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, errType("id")
	}
	return id, nil
}

// readParams reads a urlencoded or multipart body (formParams).
func readParams(w http.ResponseWriter, r *http.Request, allowed []string) (*params, *apiError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	// Media types are case-insensitive; any multipart one goes to the
	// multipart reader, which refuses all but multipart/form-data.
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type"))), "multipart/") {
		if err := r.ParseForm(); err != nil {
			return nil, bodyError(err)
		}
		return formParams(r.PostForm, nil, nil, allowed)
	}
	if err := r.ParseMultipartForm(maxBody); err != nil {
		return nil, bodyError(err)
	}
	defer r.MultipartForm.RemoveAll()
	var files []string
	var img *crm.Image
	for k, parts := range r.MultipartForm.File {
		files = append(files, k)
		if k == "imageFile" && len(parts) > 0 {
			var err *apiError
			if img, err = readImage(parts[0]); err != nil {
				return nil, err
			}
		}
	}
	return formParams(r.MultipartForm.Value, files, img, allowed)
}

// formParams are a write's parameters (text parts, file parts' names, an
// image); those outside allowed are refused with invalid_param, by name.
func formParams(form url.Values, files []string, img *crm.Image, allowed []string) (*params, *apiError) {
	p := &params{values: make(map[string]string, len(form)), image: img}
	names := files
	if img != nil {
		names = append(names, "imageFile")
	}
	for k := range form {
		names = append(names, k)
		p.values[k], _ = first(form, k)
	}
	if bad := unknownParams(names, allowed); len(bad) > 0 {
		return nil, errInvalidParams(bad)
	}
	if _, ok := p.values["imageFile"]; ok {
		// imageFile must be a file part, not text.
		return nil, errType("imageFile")
	}
	return p, nil
}

func readImage(fh *multipart.FileHeader) (*crm.Image, *apiError) {
	f, err := fh.Open()
	if err != nil {
		return nil, bodyError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImageSize+1))
	if err != nil {
		return nil, bodyError(err)
	}
	return &crm.Image{Filename: fh.Filename, Content: data}, nil
}

// bodyError answers a body that could not be read: too large, or not a form.
func bodyError(err error) *apiError {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{http.StatusBadRequest, crm.CodeExceededFileSize, "image size should not exceed 2Mo"}
	}
	return &apiError{http.StatusBadRequest, crm.CodeInvalidParam, "The request body could not be read as a form."}
}

func baseURL(r *http.Request) string { return "http://" + r.Host }

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	writeBody(w, status, body, err)
}

// writeBody writes a JSON body, or 500 server_error when it could not be
// encoded (err).
func writeBody(w http.ResponseWriter, status int, body []byte, err error) {
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server_error","error_description":"Oops! Something went wrong..."}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}
