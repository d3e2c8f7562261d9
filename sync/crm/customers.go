package crm

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
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
}

// Paging is the list answer's paging object.
type Paging struct {
	Total    int     `json:"total"`
	Max      int     `json:"max"`
	Offset   int     `json:"offset"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
}

// ListPage fetches one page.
func (c *Client) ListPage(ctx context.Context, q ListQuery) (*Page, error) {
	var p Page
	err := c.do(ctx, call{method: http.MethodGet, op: OpList, query: q.Values(), idempotent: true}, &p)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// List walks every page of a query from q.Offset on, yielding customers in
// the API's order. It stops at the first error, which it yields. Offset
// paging over records that change meanwhile can skip or repeat records;
// callers that need a consistent walk page on a timestamp instead.
func (c *Client) List(ctx context.Context, q ListQuery) iter.Seq2[Customer, error] {
	return func(yield func(Customer, error) bool) {
		if q.Max <= 0 {
			q.Max = DefaultPageSize
		}
		for {
			p, err := c.ListPage(ctx, q)
			if err != nil {
				yield(Customer{}, err)
				return
			}
			for _, cu := range p.Data {
				if !yield(cu, nil) {
					return
				}
			}
			q.Offset += len(p.Data)
			if len(p.Data) == 0 || p.Paging.Next == nil || q.Offset >= p.Paging.Total {
				return
			}
		}
	}
}

// Show fetches a customer by its CRM id.
func (c *Client) Show(ctx context.Context, id int64) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodGet, op: OpShow, path: idPath(id), idempotent: true}, &cu)
	return result(&cu, err)
}

// ShowByReference fetches a customer by its reference (external id).
func (c *Client) ShowByReference(ctx context.Context, ref string) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodGet, op: OpShowByReference, path: refPath(ref), idempotent: true}, &cu)
	return result(&cu, err)
}

// Create creates a customer. It is not idempotent: after a request may have
// reached the server it is never repeated (only a 429, which the server
// answers without acting, or a connection that never carried it).
func (c *Client) Create(ctx context.Context, f *Form) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodPost, op: OpCreate, form: f}, &cu)
	return result(&cu, err)
}

// Update changes the given fields of the customer with that CRM id. It is
// not retried after the request may have reached the server.
func (c *Client) Update(ctx context.Context, id int64, f *Form) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodPost, op: OpUpdate, path: idPath(id), form: f}, &cu)
	return result(&cu, err)
}

// Upsert creates or updates the customer with that reference. It is
// idempotent and retried.
func (c *Client) Upsert(ctx context.Context, ref string, f *Form) (*Customer, error) {
	var cu Customer
	err := c.do(ctx, call{method: http.MethodPost, op: OpUpsert, path: refPath(ref), form: f, idempotent: true}, &cu)
	return result(&cu, err)
}

// Delete deletes the customer with that CRM id. A 404 is returned as an
// error (IsNotFound): the caller decides whether "already gone" is success.
func (c *Client) Delete(ctx context.Context, id int64) error {
	return c.do(ctx, call{method: http.MethodDelete, op: OpDelete, path: idPath(id), idempotent: true}, nil)
}

// DeleteByReference deletes the customer with that reference.
func (c *Client) DeleteByReference(ctx context.Context, ref string) error {
	return c.do(ctx, call{method: http.MethodDelete, op: OpDeleteByReference, path: refPath(ref), idempotent: true}, nil)
}

func idPath(id int64) string    { return "/" + strconv.FormatInt(id, 10) }
func refPath(ref string) string { return "/reference/" + url.PathEscape(ref) }

func result(cu *Customer, err error) (*Customer, error) {
	if err != nil {
		return nil, err
	}
	return cu, nil
}
