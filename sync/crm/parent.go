package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// UnmarshalJSON reads parentCustomer in each shape an answer may give it.
// The reference only ever shows null there, and types the parameter
// "Long/String" (an id or a reference): the link object {id, reference,
// href} (crmsim's reading), the parent's id as a number (what a real CRM
// answers), or a string, read as an id when it is all digits and as a
// reference otherwise. An id alone is completed by Client.CompleteParents.
func (l *CustomerLink) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("parentCustomer: nothing to read")
	}
	switch b[0] {
	case '{':
		type plain CustomerLink // without this method
		var v plain
		if err := fastjson.Unmarshal(b, &v); err != nil {
			if err := json.Unmarshal(b, &v); err != nil { // its messages quote no data
				return cleanError(err)
			}
		}
		*l = CustomerLink(v)
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return cleanError(err)
		}
		s = strings.TrimSpace(s)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			*l = CustomerLink{ID: n}
		} else {
			*l = CustomerLink{Reference: s}
		}
	default:
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("parentCustomer: want an object, an id or a reference, got %s", jsonKind(b))
		}
		*l = CustomerLink{ID: n}
	}
	return nil
}

// parentRefs are the references of the parents answered by id alone, as
// resolved so far ("" for an id the CRM does not know): one request per
// parent, however many sub-customers name it. A client may live long
// (serve): a parent renamed by hand is seen again when an answer carries
// it, or at the latest parentTTL after it was asked.
type parentRefs struct {
	mu sync.Mutex
	m  map[int64]parentRef
}

type parentRef struct {
	ref string
	at  time.Time
}

// parentTTL is how long a parent's reference is taken as known.
const parentTTL = 5 * time.Minute

func (p *parentRefs) get(id int64) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[id]
	if !ok || time.Since(e.at) > parentTTL {
		return "", false
	}
	return e.ref, true
}

func (p *parentRefs) put(id int64, ref string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[int64]parentRef{}
	}
	p.m[id] = parentRef{ref: ref, at: time.Now()}
}

// seen updates the parents known that the answers carry themselves.
func (p *parentRefs) seen(cs []Customer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) == 0 {
		return
	}
	now := time.Now()
	for i := range cs {
		if _, ok := p.m[cs[i].ID]; ok {
			p.m[cs[i].ID] = parentRef{ref: cs[i].Reference, at: now}
		}
	}
}

// CompleteParents fills in the reference of each parentCustomer that the
// CRM answered by its id alone, so that a parent compares by reference
// whichever the answer carried: from the customers given (a page holds
// parents and sub-customers alike), from the parents already resolved, or
// by one GET /customers/{id} for a parent not seen yet. A parent that no
// longer exists keeps its id alone (and reads as no parent's reference).
func (c *Client) CompleteParents(ctx context.Context, cs []Customer) error {
	c.parents.seen(cs)
	var onPage map[int64]string
	for i := range cs {
		l := cs[i].ParentCustomer
		if l == nil || l.Reference != "" || l.ID == 0 {
			continue
		}
		if onPage == nil {
			onPage = make(map[int64]string, len(cs))
			for _, x := range cs {
				onPage[x.ID] = x.Reference
			}
		}
		ref, ok := onPage[l.ID]
		if !ok {
			var err error
			if ref, err = c.parentReference(ctx, l.ID); err != nil {
				return fmt.Errorf("read the parent %d of %s: %w", l.ID, cs[i].Reference, err)
			}
		}
		if ref != "" {
			cs[i].ParentCustomer = &CustomerLink{ID: l.ID, Reference: ref, Href: l.Href}
		}
	}
	return nil
}

// parentReference is the reference of the customer with that id, from
// those resolved so far or asked of the CRM ("" when it has none).
func (c *Client) parentReference(ctx context.Context, id int64) (string, error) {
	if ref, ok := c.parents.get(id); ok {
		return ref, nil
	}
	var cu Customer
	err := c.do(ctx, call{method: http.MethodGet, op: OpShow, path: idPath(id), idempotent: true}, &cu)
	switch {
	case IsNotFound(err):
		cu.Reference = ""
	case err != nil:
		return "", err
	}
	c.parents.put(id, cu.Reference)
	return cu.Reference, nil
}

// completeParent is CompleteParents for the one customer of an answer.
func (c *Client) completeParent(ctx context.Context, cu *Customer, err error) (*Customer, error) {
	if err != nil {
		return nil, err
	}
	if p := cu.ParentCustomer; p == nil || p.Reference != "" || p.ID == 0 {
		c.parents.seen([]Customer{*cu})
		return cu, nil
	}
	one := []Customer{*cu}
	if err := c.CompleteParents(ctx, one); err != nil {
		return nil, err
	}
	*cu = one[0]
	return cu, nil
}
