// Package crmsim simulates the CRM's Customers API (reference version 2.1)
// in memory: every endpoint with the reference's status codes, bodies and
// messages, plus fault injection (latency, 5xx, 429, auth) and request
// counts at GET /_sim/stats. Tests, benchmarks and the demo talk to it over
// real HTTP; only cmd/crmsim and the demo import it outside tests.
package crmsim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"erpsync/sync/crm"
)

// Options are the simulator's faults and auth.
type Options struct {
	// Token, when set, is the only Bearer token accepted; others get 401.
	Token string
	// Latency delays every API answer, with a jitter of ±10%.
	Latency time.Duration
	// FailRate is the share of API requests answered 500 server_error.
	FailRate float64
	// ThrottleRate is the share of API requests answered 429 with
	// Retry-After: 1.
	ThrottleRate float64
	// FaultSeed makes the faults reproducible; 0 picks one at random.
	FaultSeed uint64
}

// Server is the simulator's HTTP handler.
type Server struct {
	Store *Store
	opts  Options
	mux   *http.ServeMux

	mu    sync.Mutex
	rng   *rand.Rand
	stats map[string]int64
}

// maxBody bounds a request body: an image of 2 MB and its form.
const maxBody = 8 << 20

// New returns a handler over store.
func New(store *Store, opts Options) *Server {
	seed := opts.FaultSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Server{
		Store: store,
		opts:  opts,
		mux:   http.NewServeMux(),
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		stats: map[string]int64{},
	}
	s.route(crm.OpList, "GET /api/{version}/customers", s.handleList)
	s.route(crm.OpShow, "GET /api/{version}/customers/{id}", s.handleShow)
	s.route(crm.OpShowByReference, "GET /api/{version}/customers/reference/{ref}", s.handleShowByReference)
	s.route(crm.OpCreate, "POST /api/{version}/customers", s.handleCreate)
	s.route(crm.OpUpdate, "POST /api/{version}/customers/{id}", s.handleUpdate)
	s.route(crm.OpUpsert, "POST /api/{version}/customers/reference/{ref}", s.handleUpsert)
	s.route(crm.OpUpsert, "POST /api/{version}/customers/reference/{$}", s.handleUpsertWithoutReference)
	s.route(crm.OpDelete, "DELETE /api/{version}/customers/{id}", s.handleDelete)
	s.route(crm.OpDeleteByReference, "DELETE /api/{version}/customers/reference/{ref}", s.handleDeleteByReference)
	s.mux.HandleFunc("GET /_sim/stats", s.handleStats)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count("OTHER")
		writeError(w, errNotFound("No such resource."))
	})
	return s
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

// ResetStats sets every count back to zero.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.stats)
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
		if s.opts.Latency > 0 {
			if !s.delay(r) {
				return
			}
		}
		if s.opts.Token != "" && !s.authorized(r) {
			writeError(w, errToken())
			return
		}
		throttle, fail := s.faults()
		if throttle {
			w.Header().Set("Retry-After", "1")
			writeError(w, errThrottled())
			return
		}
		if fail {
			writeError(w, errServer())
			return
		}
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// delay sleeps the latency with jitter; false when the client went away.
func (s *Server) delay(r *http.Request) bool {
	s.mu.Lock()
	jitter := (s.rng.Float64()*0.2 - 0.1) * float64(s.opts.Latency)
	s.mu.Unlock()
	t := time.NewTimer(s.opts.Latency + time.Duration(jitter))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1
}

func (s *Server) faults() (throttle, fail bool) {
	if s.opts.ThrottleRate <= 0 && s.opts.FailRate <= 0 {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.rng.Float64()
	return x < s.opts.ThrottleRate, x >= s.opts.ThrottleRate && x < s.opts.ThrottleRate+s.opts.FailRate
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) *apiError {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	f, err := parseListQuery(q)
	if err != nil {
		return err
	}
	version := r.PathValue("version")
	data, total := s.Store.list(f)
	page := crm.Page{
		Paging: crm.Paging{Total: total, Max: f.max, Offset: f.offset},
		Data:   make([]crm.Customer, len(data)),
	}
	if f.offset > 0 {
		prev := f.link(version, max(0, f.offset-f.max))
		page.Paging.Previous = &prev
	}
	if f.max > 0 && f.max < total-f.offset { // not offset+max: both may be near MaxInt
		next := f.link(version, f.offset+f.max)
		page.Paging.Next = &next
	}
	for i := range data {
		page.Data[i] = render(data[i], version)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) handleShow(w http.ResponseWriter, r *http.Request) *apiError {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Store.Show(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, render(c, r.PathValue("version")))
	return nil
}

func (s *Server) handleShowByReference(w http.ResponseWriter, r *http.Request) *apiError {
	c, err := s.Store.ShowByReference(r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, render(c, r.PathValue("version")))
	return nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) *apiError {
	p, err := readParams(w, r, createParams)
	if err != nil {
		return err
	}
	c, err := s.Store.Create(p, baseURL(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, render(c, r.PathValue("version")))
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, render(c, r.PathValue("version")))
	return nil
}

// handleUpsert answers 201 when it created the customer (as the reference
// shows) and 200 when it updated one.
func (s *Server) handleUpsert(w http.ResponseWriter, r *http.Request) *apiError {
	p, err := readParams(w, r, upsertParams)
	if err != nil {
		return err
	}
	c, created, err := s.Store.Upsert(r.PathValue("ref"), p, baseURL(r))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, render(c, r.PathValue("version")))
	return nil
}

// handleUpsertWithoutReference answers an upsert whose reference, the last
// segment of its path, is empty, as the reference documents for upsert.
func (s *Server) handleUpsertWithoutReference(_ http.ResponseWriter, _ *http.Request) *apiError {
	return errMissing("reference")
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

func (s *Server) handleDeleteByReference(w http.ResponseWriter, r *http.Request) *apiError {
	if err := s.Store.DeleteByReference(r.PathValue("ref")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted)
	return nil
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"requests": s.Stats()})
}

func pathID(r *http.Request) (int64, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, errType("id")
	}
	return id, nil
}

// readParams reads a urlencoded or multipart body. Parameters outside
// allowed are refused with invalid_param, naming them.
func readParams(w http.ResponseWriter, r *http.Request, allowed []string) (*params, *apiError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	p := &params{values: map[string]string{}}
	var names []string
	// Media types are case-insensitive; any multipart one goes to the
	// multipart reader, which refuses all but multipart/form-data.
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type"))), "multipart/") {
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return nil, bodyError(err)
		}
		defer r.MultipartForm.RemoveAll()
		for k, v := range r.MultipartForm.Value {
			names = append(names, k)
			p.values[k] = v[0]
		}
		for k, files := range r.MultipartForm.File {
			names = append(names, k)
			if k != "imageFile" || len(files) == 0 {
				continue
			}
			img, err := readImage(files[0])
			if err != nil {
				return nil, err
			}
			p.image = img
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return nil, bodyError(err)
		}
		for k, v := range r.PostForm {
			names = append(names, k)
			p.values[k] = v[0]
		}
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

// render fills the links of a customer for an API version. The nested
// objects are copied: the store's own are never changed.
func render(c crm.Customer, version string) crm.Customer {
	prefix := "/api/" + version + "/"
	if c.CustomerCategory != nil {
		cat := *c.CustomerCategory
		cat.Href = prefix + "customerCategories/" + strconv.FormatInt(cat.ID, 10)
		c.CustomerCategory = &cat
	}
	if c.CustomerSegmentation != nil {
		seg := *c.CustomerSegmentation
		seg.Href = prefix + "customerSegmentations/" + strconv.FormatInt(seg.ID, 10)
		c.CustomerSegmentation = &seg
	}
	if c.CreatedBy != nil {
		u := *c.CreatedBy
		u.Href = prefix + "users/" + strconv.FormatInt(u.UserID, 10)
		c.CreatedBy = &u
	}
	if c.ParentCustomer != nil {
		p := *c.ParentCustomer
		p.Href = prefix + "customers/" + strconv.FormatInt(p.ID, 10)
		c.ParentCustomer = &p
	}
	if c.Region.Value != nil {
		reg := *c.Region.Value
		reg.Href = prefix + "regions/" + strconv.FormatInt(reg.ID, 10)
		c.Region.Value = &reg
	}
	pts := make([]crm.PaymentType, len(c.PaymentTypes))
	for i, pt := range c.PaymentTypes {
		pt.Href = prefix + "paymentTypes/" + strconv.FormatInt(pt.ID, 10)
		pts[i] = pt
	}
	c.PaymentTypes = pts
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
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
