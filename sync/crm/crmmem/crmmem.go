// Package crmmem is the CRM in memory, for the engine's tests that need
// no HTTP: the methods of sync.CRM served by crmsim in-process
// (crmsim.Server.Serve), so that its answers are crmsim's own (the same
// store, references, lastUpdated and its precision, parent rules,
// validation errors and request counts in Server.Stats), without a
// listener, a request or JSON. The contract suite in its tests runs the
// same calls on it and on crm.Client over loopback crmsim and wants the
// same answers.
//
// It answers as a crm.Client with no retries (crm.Config.Retries -1): one
// attempt, and its answer. Tests inject what they inject into crmsim
// (faults, hand edits, deletes and creates through its Store, the clock
// through crmsim.Options.Now), and what a front before crmsim would
// answer (Before).
package crmmem

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// CRM is crmsim called in-process. Its methods are safe for concurrent
// use; Before and After are set before the first call.
type CRM struct {
	Sim *crmsim.Server
	// PageSize is the list's max when a query names none (as
	// crm.Config.PageSize); 0: crm.DefaultPageSize.
	PageSize int
	// Before, when set, sees every call first: its operation (crm.Op*)
	// and reference ("" for a list). An error it returns is the call's
	// answer, and crmsim never sees the call (as a front before it would
	// answer); a *crm.APIError is read as the CRM's own refusal.
	Before func(op, ref string) error
	// After, when set, is told of every answer crmsim gave, before the
	// caller gets it.
	After func(op, ref string, err error)

	requests, throttled atomic.Int64
}

// New is the CRM of sim. Options that only HTTP shows are refused:
// ParentShape "id" (the client completes such parents with requests of
// its own) and the login (Token, User: in-process calls are authorized).
func New(sim *crmsim.Server) (*CRM, error) {
	switch opts := sim.Options(); {
	case opts.ParentShape == "id":
		return nil, errors.New("crmmem: ParentShape id is answered over HTTP only")
	case opts.Token != "" || opts.User != "":
		return nil, errors.New("crmmem: no login in-process: leave Token and User empty")
	}
	return &CRM{Sim: sim}, nil
}

// answer is what crmsim answered a call.
type answer struct {
	status int
	page   *crm.Page
	cu     *crm.Customer
}

// call serves one call of op on ref with the list's or the write's
// parameters q and a write's image: Before, crmsim, After.
func (c *CRM) call(ctx context.Context, op, ref string, q url.Values, img *crm.Image) (answer, error) {
	c.requests.Add(1)
	if c.Before != nil {
		if err := c.Before(op, ref); err != nil {
			return answer{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return answer{}, fmt.Errorf("%s: %w", op, err)
	}
	var a answer
	var err error
	a.status, a.page, a.cu, err = c.Sim.Serve(ctx, op, ref, q, img)
	var apiErr *crm.APIError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.Status == http.StatusTooManyRequests {
			c.throttled.Add(1)
		}
	case err != nil:
		err = fmt.Errorf("%s: %w", op, err)
	}
	if c.After != nil {
		c.After(op, ref, err)
	}
	return a, err
}

// ListPage answers one page of the list, as crm.Client.ListPage.
func (c *CRM) ListPage(ctx context.Context, q crm.ListQuery) (*crm.Page, error) {
	if q.Max <= 0 {
		q.Max = c.PageSize
		if q.Max <= 0 {
			q.Max = crm.DefaultPageSize
		}
	}
	a, err := c.call(ctx, crm.OpList, "", q.Values(), nil)
	return a.page, err
}

// ShowByReference answers the customer of ref, as
// crm.Client.ShowByReference.
func (c *CRM) ShowByReference(ctx context.Context, ref string) (*crm.Customer, error) {
	a, err := c.call(ctx, crm.OpShowByReference, ref, nil, nil)
	return a.cu, err
}

// Upsert creates or updates the customer of ref, as crm.Client.Upsert.
func (c *CRM) Upsert(ctx context.Context, ref string, f *crm.Form) (*crm.Customer, error) {
	if f == nil {
		f = crm.NewForm()
	}
	a, err := c.call(ctx, crm.OpUpsert, ref, f.Fields(), f.Image)
	return a.cu, err
}

// DeleteByReferenceStatus deletes the customer of ref and returns the
// status of crmsim's answer, as crm.Client.DeleteByReferenceStatus.
func (c *CRM) DeleteByReferenceStatus(ctx context.Context, ref string) (int, error) {
	a, err := c.call(ctx, crm.OpDeleteByReference, ref, nil, nil)
	return a.status, err
}

// Stats counts the calls made (Requests) and the 429 answers, as a
// crm.Client with no retries counts them.
func (c *CRM) Stats() crm.Stats {
	return crm.Stats{Requests: c.requests.Load(), Throttled: c.throttled.Load()}
}
