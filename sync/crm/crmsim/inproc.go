package crmsim

import (
	"context"
	"net/http"
	"net/url"

	"erpsync/sync/crm"
)

// Options are the options the server was made with.
func (s *Server) Options() Options { return s.opts }

// Serve answers a call of crm.DefaultAPIVersion in-process (crmmem) by the
// handlers' steps, authorized: op (crm.OpList, OpShowByReference, OpUpsert,
// OpDeleteByReference) on ref, the list's or write's parameters q, an image;
// the status, page or customer as the client reads them, or *crm.APIError.
func (s *Server) Serve(ctx context.Context, op, ref string, q url.Values, img *crm.Image) (int, *crm.Page, *crm.Customer, error) {
	s.count(op)
	if !s.delay(ctx) {
		return 0, nil, nil, ctx.Err()
	}
	status, p, c, err := s.serve(op, ref, q, img)
	if err != nil {
		return 0, nil, nil, &crm.APIError{Status: err.status, Code: err.code, Description: err.description, Op: op}
	}
	return status, p, c, nil
}

func (s *Server) serve(op, ref string, q url.Values, img *crm.Image) (int, *crm.Page, *crm.Customer, *apiError) {
	const version = crm.DefaultAPIVersion
	if !s.versions[version] {
		return 0, nil, nil, errVersion(version)
	}
	if err := s.faults(); err != nil {
		return 0, nil, nil, err
	}
	if op == crm.OpList {
		pg, items, _, err := s.listPage(q, version, "")
		p := &crm.Page{Paging: crm.Paging(pg), Data: make([]crm.Customer, len(items))}
		for i, it := range items {
			p.Data[i] = s.dress(*it.copy, version)
		}
		return http.StatusOK, p, nil, err
	}
	var p *params
	if op == crm.OpUpsert {
		var err *apiError
		if p, err = formParams(q, nil, img, upsertParams); err != nil {
			return 0, nil, nil, err
		}
	}
	status, c, err := s.byReference(op, ref, p, "http://crmsim") // Store.Put's base of logo links
	if err != nil || op == crm.OpDeleteByReference {
		return status, nil, nil, err
	}
	c = s.dress(c, version)
	c.AnswerStatus = status
	return status, nil, &c, nil
}
