package crmsim

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"erpsync/sync/crm"
)

// Call is an API call made in-process, without HTTP (package crmmem): the
// operation (crm.OpList, crm.OpShowByReference, crm.OpUpsert or
// crm.OpDeleteByReference) and what its request would carry. It is served
// by the handlers' own steps: counted in Stats, delayed by the latency,
// its version checked, the faults drawn, its parameters checked and
// applied by the store, its answer dressed as render dresses it. It is
// always authorized: a session or a token is a matter of HTTP.
type Call struct {
	Op      string
	Version string     // the API version of the path; "": crm.DefaultAPIVersion
	Ref     string     // the path's {ref}
	Query   url.Values // a list's parameters
	Form    url.Values // a write's parameters (the first value of each)
	Image   *crm.Image // a write's imageFile part
}

// Answer is what a Call answered: the HTTP status, and the customer or
// the page as the client reads them (links filled, dates in the store's
// precision), or the error as the client reads it.
type Answer struct {
	Status   int
	Customer *crm.Customer
	Page     *crm.Page
	Err      *crm.APIError
}

// Options are the options the server was made with (New's, versions
// defaulted).
func (s *Server) Options() Options { return s.opts }

// inprocBase is the base URL of the logo links of images written
// in-process, as Store.Put writes them.
const inprocBase = "http://crmsim"

// Serve serves a Call in-process. A call whose ctx ends during the
// latency answers nothing (Status 0) and the ctx's error.
func (s *Server) Serve(ctx context.Context, c Call) (Answer, error) {
	if c.Version == "" {
		c.Version = crm.DefaultAPIVersion
	}
	s.count(c.Op)
	if !s.delay(ctx) {
		return Answer{}, ctx.Err()
	}
	a, err := s.serveCall(c)
	if err != nil {
		return Answer{Status: err.status, Err: &crm.APIError{Status: err.status, Code: err.code,
			Description: err.description, Op: c.Op}}, nil
	}
	return a, nil
}

// serveCall is a call past its counting and latency.
func (s *Server) serveCall(c Call) (Answer, *apiError) {
	if err := s.checkVersion(c.Version); err != nil {
		return Answer{}, err
	}
	if err := s.fault(); err != nil {
		return Answer{}, err
	}
	switch c.Op {
	case crm.OpList:
		return s.listCall(c)
	case crm.OpShowByReference:
		cu, err := s.Store.ShowByReference(c.Ref)
		return s.customerAnswer(cu, http.StatusOK, c.Version, err)
	case crm.OpUpsert:
		p, err := formParams(c, upsertParams)
		if err != nil {
			return Answer{}, err
		}
		cu, status, err := s.upsert(c.Ref, p, inprocBase)
		return s.customerAnswer(cu, status, c.Version, err)
	case crm.OpDeleteByReference:
		if err := s.Store.DeleteByReference(c.Ref); err != nil {
			return Answer{}, err
		}
		return Answer{Status: http.StatusOK}, nil
	}
	return Answer{}, errNotFound("No such resource.")
}

// listCall answers a page of the list, every customer dressed.
func (s *Server) listCall(c Call) (Answer, *apiError) {
	pg, items, _, err := s.listPage(c.Query, c.Version, "")
	if err != nil {
		return Answer{}, err
	}
	p := &crm.Page{Paging: crm.Paging{Total: pg.Total, Max: pg.Max, Offset: pg.Offset, Previous: pg.Previous, Next: pg.Next},
		Data: make([]crm.Customer, len(items))}
	for i, it := range items {
		p.Data[i] = s.dress(*it.copy, c.Version)
	}
	return Answer{Status: http.StatusOK, Page: p}, nil
}

// customerAnswer is a customer's answer, or err's.
func (s *Server) customerAnswer(cu crm.Customer, status int, version string, err *apiError) (Answer, *apiError) {
	if err != nil {
		return Answer{}, err
	}
	cu = s.dress(cu, version)
	cu.AnswerStatus = status
	return Answer{Status: status, Customer: &cu}, nil
}

// formParams are a write's parameters as readParams reads them from a
// body: the first value of each, checked against allowed.
func formParams(c Call, allowed []string) (*params, *apiError) {
	p := &params{values: make(map[string]string, len(c.Form)), image: c.Image}
	names := make([]string, 0, len(c.Form)+1)
	for k, v := range c.Form {
		names = append(names, k)
		if len(v) > 0 {
			p.values[k] = v[0]
		}
	}
	if c.Image != nil {
		names = append(names, "imageFile")
	}
	slices.Sort(names)
	if err := checkParams(p, names, allowed); err != nil {
		return nil, err
	}
	return p, nil
}

// upsert creates or updates the customer of ref (its reference empty: the
// reference's missing_param); status is 201 when it created it, else 200.
func (s *Server) upsert(ref string, p *params, baseURL string) (crm.Customer, int, *apiError) {
	if ref == "" {
		return crm.Customer{}, 0, errMissing("reference")
	}
	c, created, err := s.Store.Upsert(ref, p, baseURL)
	if err != nil {
		return crm.Customer{}, 0, err
	}
	if created {
		return c, http.StatusCreated, nil
	}
	return c, http.StatusOK, nil
}
