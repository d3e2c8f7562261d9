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

// call serves one call: Before, crmsim, After.
func (c *CRM) call(ctx context.Context, call crmsim.Call) (crmsim.Answer, error) {
	c.requests.Add(1)
	if c.Before != nil {
		if err := c.Before(call.Op, call.Ref); err != nil {
			return crmsim.Answer{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return crmsim.Answer{}, fmt.Errorf("%s: %w", call.Op, err)
	}
	a, err := c.Sim.Serve(ctx, call)
	switch {
	case err != nil:
		err = fmt.Errorf("%s: %w", call.Op, err)
	case a.Err != nil:
		err = a.Err
		if a.Err.Status == 429 {
			c.throttled.Add(1)
		}
	}
	if c.After != nil {
		c.After(call.Op, call.Ref, err)
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
	a, err := c.call(ctx, crmsim.Call{Op: crm.OpList, Query: q.Values()})
	if err != nil {
		return nil, err
	}
	return a.Page, nil
}

// ShowByReference answers the customer of ref, as
// crm.Client.ShowByReference.
func (c *CRM) ShowByReference(ctx context.Context, ref string) (*crm.Customer, error) {
	a, err := c.call(ctx, crmsim.Call{Op: crm.OpShowByReference, Ref: ref})
	if err != nil {
		return nil, err
	}
	return a.Customer, nil
}

// Upsert creates or updates the customer of ref, as crm.Client.Upsert.
func (c *CRM) Upsert(ctx context.Context, ref string, f *crm.Form) (*crm.Customer, error) {
	call := crmsim.Call{Op: crm.OpUpsert, Ref: ref, Form: url.Values{}}
	if f != nil {
		call.Form, call.Image = f.Values, f.Image
	}
	a, err := c.call(ctx, call)
	if err != nil {
		return nil, err
	}
	return a.Customer, nil
}

// DeleteByReferenceStatus deletes the customer of ref and returns the
// status of crmsim's answer, as crm.Client.DeleteByReferenceStatus.
func (c *CRM) DeleteByReferenceStatus(ctx context.Context, ref string) (int, error) {
	a, err := c.call(ctx, crmsim.Call{Op: crm.OpDeleteByReference, Ref: ref})
	return a.Status, err
}

// Stats counts the calls made (Requests) and the 429 answers, as a
// crm.Client with no retries counts them.
func (c *CRM) Stats() crm.Stats {
	return crm.Stats{Requests: c.requests.Load(), Throttled: c.throttled.Load()}
}
