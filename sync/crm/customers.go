package crm

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// Operation names, as used in errors, logs, metrics and crmsim's stats.
const (
	OpList              = "GET /customers"
	OpShow              = "GET /customers/{id}"
	OpShowByReference   = "GET /customers/reference/{id}"
	OpCreate            = "POST /customers"
	OpUpdate            = "POST /customers/{id}"
	OpUpsert            = "POST /customers/reference/{id}"
	OpDelete            = "DELETE /customers/{id}"
	OpDeleteByReference = "DELETE /customers/reference/{id}"
)

// DefaultPageSize is the API's default `max`.
const DefaultPageSize = 100

// ListQuery holds the list call's paging and filter parameters. Zero
// values are not sent.
type ListQuery struct {
	Max    int    // page size; the API's default is 100
	Offset int    // first record
	Sort   string // a field name, e.g. lastUpdated
	Order  string // asc or desc

	DateCreatedGt, DateCreatedGte, DateCreatedLt, DateCreatedLte time.Time
	LastUpdatedGt, LastUpdatedGte, LastUpdatedLt, LastUpdatedLte time.Time

	// Wildcard searches: * matches any run of characters.
	Reference, Name, CategoryReference string
	IsActive                           *bool
}

// Values encodes the query as the API's parameters.
func (q ListQuery) Values() url.Values {
	v := url.Values{}
	setInt := func(k string, n int, send bool) {
		if send {
			v.Set(k, strconv.Itoa(n))
		}
	}
	setInt("max", q.Max, q.Max > 0)
	setInt("offset", q.Offset, q.Offset > 0)
	setStr := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	setStr("sort", q.Sort)
	setStr("order", q.Order)
	setTime := func(k string, t time.Time) {
		if !t.IsZero() {
			v.Set(k, t.UTC().Format(TimeLayout))
		}
	}
	setTime("dateCreated_gt", q.DateCreatedGt)
	setTime("dateCreated_gte", q.DateCreatedGte)
	setTime("dateCreated_lt", q.DateCreatedLt)
	setTime("dateCreated_lte", q.DateCreatedLte)
	setTime("lastUpdated_gt", q.LastUpdatedGt)
	setTime("lastUpdated_gte", q.LastUpdatedGte)
	setTime("lastUpdated_lt", q.LastUpdatedLt)
	setTime("lastUpdated_lte", q.LastUpdatedLte)
	setStr("reference", q.Reference)
	setStr("name", q.Name)
	setStr("categoryReference", q.CategoryReference)
	if q.IsActive != nil {
		v.Set("isActive", strconv.FormatBool(*q.IsActive))
	}
	return v
}

// Page is one answer of the list call.
type Page struct {
	Paging Paging     `json:"paging"`
	Data   []Customer `json:"data"`
	// Unreadable are the records of the answer that could not be read,
	// even leniently; Data holds the others, in the answer's order.
	Unreadable []*RecordError `json:"-"`
}

// Len is how many records the answer held, read or not.
func (p *Page) Len() int { return len(p.Data) + len(p.Unreadable) }

// More reports whether records follow this page of the query q. It reads
// the answer's paging (next, then total) rather than comparing the
// page's length with the max asked for: a server may cap the page size.
// An empty page is the last.
func (p *Page) More(q ListQuery) bool {
	n := p.Len()
	switch {
	case n == 0:
		return false
	case p.Paging.Next != nil:
		return true
	case p.Paging.Total > 0:
		return q.Offset+n < p.Paging.Total
	}
	// An answer without paging facts: a full page may have a successor.
	size := p.Paging.Max
	if size <= 0 {
		size = q.Max
	}
	return size > 0 && n >= size
}

// Slot is what is known of one record of an answer, by position: a record
// that could not be read may have a zero ID or time.
type Slot struct {
	ID          int64
	LastUpdated time.Time
	Read        bool // false: the record is in Unreadable
}

// Slots lists the answer's records in order, read or not.
func (p *Page) Slots() []Slot {
	slots := make([]Slot, 0, p.Len())
	data, bad := p.Data, p.Unreadable
	for i := range p.Len() {
		if len(bad) > 0 && bad[0].Index == i || len(data) == 0 {
			slots = append(slots, Slot{ID: bad[0].ID, LastUpdated: bad[0].LastUpdated})
			bad = bad[1:]
			continue
		}
		slots = append(slots, Slot{ID: data[0].ID, LastUpdated: data[0].LastUpdated.Time, Read: true})
		data = data[1:]
	}
	return slots
}

// Paging is the list answer's paging object.
type Paging struct {
	Total    int     `json:"total"`
	Max      int     `json:"max"`
	Offset   int     `json:"offset"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
}

// ListPage fetches one page. A query without Max asks for the
// configured PageSize.
func (c *Client) ListPage(ctx context.Context, q ListQuery) (*Page, error) {
	a, err := c.FetchPage(ctx, q)
	if err != nil {
		return nil, err
	}
	p, err := a.Decode()
	if err != nil {
		return nil, err
	}
	if err := c.CompleteParents(ctx, p.Data); err != nil {
		return nil, fmt.Errorf("%s: %w", OpList, err)
	}
	return p, nil
}

// PageAnswer is a list answer received and not yet decoded. Decoding a
// large page is the client's own work: a caller that bounds the requests
// in flight can decode after the request's turn has ended.
type PageAnswer struct {
	status int
	body   []byte
	max    int // the records asked for: room made for them
}

func (a *PageAnswer) takeStatus(st int) { a.status = st }

// decodeBody keeps the body for Decode.
func (a *PageAnswer) decodeBody(body []byte) error {
	a.body = body
	return nil
}

// FetchPage fetches one page as ListPage does, with the same retries,
// and leaves its decoding to Decode.
func (c *Client) FetchPage(ctx context.Context, q ListQuery) (*PageAnswer, error) {
	if q.Max <= 0 {
		q.Max = c.cfg.PageSize
	}
	a := &PageAnswer{max: q.Max}
	err := c.do(ctx, call{method: http.MethodGet, op: OpList, query: q.Values(), idempotent: true}, a)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// maxPresized bounds the records a page makes room for before decoding.
const maxPresized = 1000

// newPage is a page with room for the records asked for, at once: grown
// step by step, the records (640 bytes each) would be allocated and
// copied several times over.
func (a *PageAnswer) newPage() *Page {
	return &Page{Data: make([]Customer, 0, min(max(a.max, 0), maxPresized))}
}

// Decode reads the answer as ListPage does, and lets go of its body.
func (a *PageAnswer) Decode() (*Page, error) {
	p := a.newPage()
	err := p.decodeBody(a.body)
	a.body = nil
	if err != nil {
		return nil, &DecodeError{Op: OpList, Status: a.status, Err: err}
	}
	return p, nil
}

// List walks every page of a query from q.Offset on, yielding customers in
// the API's order. It stops at the first error, which it yields; a record
// that cannot be read is yielded as a *RecordError and the walk goes on.
// Offset paging over records that change meanwhile can skip or repeat
// records; callers that need a consistent walk page on a timestamp
// instead.
func (c *Client) List(ctx context.Context, q ListQuery) iter.Seq2[Customer, error] {
	return func(yield func(Customer, error) bool) {
		guard := Progress{Walk: "list the CRM"}
		for {
			p, err := c.ListPage(ctx, q)
			if err == nil {
				err = guard.Check(q, p)
			}
			if err != nil {
				yield(Customer{}, err)
				return
			}
			if !yieldPage(p, yield) {
				return
			}
			if !p.More(q) {
				return
			}
			q.Offset += p.Len()
		}
	}
}

// yieldPage yields a page's customers, then its unreadable records; false
// when the caller stopped.
func yieldPage(p *Page, yield func(Customer, error) bool) bool {
	for _, cu := range p.Data {
		if !yield(cu, nil) {
			return false
		}
	}
	for _, bad := range p.Unreadable {
		if !yield(Customer{}, bad) {
			return false
		}
	}
	return true
}

// DecodeShared reads the answer as Decode does, except that the texts of
// the records share the answer's memory instead of being copied one by
// one: cheaper, for a caller that keeps nothing of a record past the page
// but a Detached copy (a text kept as it is would keep the whole answer
// in memory).
func (a *PageAnswer) DecodeShared() (*Page, error) {
	p := a.newPage()
	rest, err := fastjson.Parse(a.body, p, fastjson.ZeroCopy)
	if err != nil || len(rest) != 0 {
		return a.Decode() // what it makes of an answer out of the usual shape
	}
	a.body = nil
	return p, nil
}

// Detached returns a copy of the customer that shares no memory with it:
// every text, raw member, list and nested object is copied.
func (c *Customer) Detached() *Customer {
	d := *c
	detach(reflect.ValueOf(&d).Elem())
	return &d
}

// detach replaces, in place, what v refers to by copies: strings,
// pointers, slices, and the exported fields of structs (the unexported
// ones, such as a time's location, are kept as they are).
func detach(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.Clone(v.String()))
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(v.Elem())
		detach(n.Elem())
		v.Set(n)
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(n, v)
		if v.Type().Elem().Kind() != reflect.Uint8 {
			for i := range n.Len() {
				detach(n.Index(i))
			}
		}
		v.Set(n)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				detach(v.Field(i))
			}
		}
	}
}

// Show fetches a customer by its CRM id.
func (c *Client) Show(ctx context.Context, id int64) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodGet, op: OpShow, path: idPath(id), idempotent: true}, &cu)
	return c.completeParent(ctx, &cu, err)
}

// ShowByReference fetches a customer by its reference (external id).
func (c *Client) ShowByReference(ctx context.Context, ref string) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodGet, op: OpShowByReference, path: refPath(ref), idempotent: true}, &cu)
	return c.completeParent(ctx, &cu, err)
}

// Create creates a customer. It is not idempotent: after a request may have
// reached the server it is never repeated (only a 429, which the server
// answers without acting, or a connection that never carried it).
func (c *Client) Create(ctx context.Context, f *Form) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodPost, op: OpCreate, form: f}, &cu)
	return c.completeParent(ctx, &cu, err)
}

// Update changes the given fields of the customer with that CRM id. It is
// not retried after the request may have reached the server.
func (c *Client) Update(ctx context.Context, id int64, f *Form) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodPost, op: OpUpdate, path: idPath(id), form: f}, &cu)
	return c.completeParent(ctx, &cu, err)
}

// Upsert creates or updates the customer with that reference. It is
// idempotent and retried.
func (c *Client) Upsert(ctx context.Context, ref string, f *Form) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodPost, op: OpUpsert, path: refPath(ref), form: f, idempotent: true}, &cu)
	return c.completeParent(ctx, &cu, err)
}

// Delete deletes the customer with that CRM id. A 404 is returned as an
// error (IsNotFound): the caller decides whether "already gone" is success.
func (c *Client) Delete(ctx context.Context, id int64) error {
	return c.do(ctx, call{method: http.MethodDelete, op: OpDelete, path: idPath(id), idempotent: true}, nil)
}

// DeleteByReference deletes the customer with that reference.
func (c *Client) DeleteByReference(ctx context.Context, ref string) error {
	_, err := c.DeleteByReferenceStatus(ctx, ref)
	return err
}

// DeleteByReferenceStatus deletes the customer with that reference and
// returns the HTTP status of the CRM's answer.
func (c *Client) DeleteByReferenceStatus(ctx context.Context, ref string) (int, error) {
	var st answerStatus
	err := c.do(ctx, call{method: http.MethodDelete, op: OpDeleteByReference, path: refPath(ref), idempotent: true}, &st)
	return int(st), err
}

func idPath(id int64) string    { return "/" + strconv.FormatInt(id, 10) }
func refPath(ref string) string { return "/reference/" + url.PathEscape(ref) }
