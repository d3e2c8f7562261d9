// Package crm is a typed client of the CRM's Customers API (reference
// version 2.1): requests, paging, error decoding, retries and rate limit.
// It knows nothing of the checkpoint.
package crm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"erpsync/mapping/customer"
)

// TimeLayout is how the API writes and reads date-times: ISO-8601, UTC,
// whole seconds, with a Z.
const TimeLayout = "2006-01-02T15:04:05Z"

// Due-date configuration names as the API answers them (defined with the
// canonical customer, which reads them too).
const (
	DueDaysAfterInvoiceDate       = customer.DueDaysAfterInvoiceDate
	DueDaysAfterEndOfInvoiceMonth = customer.DueDaysAfterEndOfInvoiceMonth
)

// Customer is a customer as the API returns it, every field of the
// reference's responses in the reference's order. Nullable values are
// pointers; fields whose type the reference never shows are kept raw.
type Customer struct {
	ID                            int64             `json:"id"`
	Reference                     string            `json:"reference"`
	Reference2                    *string           `json:"reference2"`
	Name                          string            `json:"name"`
	CategoryReference             *string           `json:"categoryReference"`
	CustomerCategory              *Category         `json:"customerCategory"`
	IsSubCustomer                 bool              `json:"isSubCustomer"`
	ParentCustomer                *CustomerLink     `json:"parentCustomer"`
	BillWithParent                bool              `json:"billWithParent"`
	CustomerSegmentationReference *string           `json:"customerSegmentationReference"`
	CustomerSegmentation          *Segmentation     `json:"customerSegmentation"`
	PocTenus                      json.RawMessage   `json:"pocTenus"`
	Email                         *string           `json:"email"`
	Logo                          *string           `json:"logo"`
	Phone                         *string           `json:"phone"`
	Mobile                        *string           `json:"mobile"`
	Fax                           *string           `json:"fax"`
	Comment                       *string           `json:"comment"`
	Barcode                       *string           `json:"barcode"`
	IsSameAddress                 bool              `json:"isSameAddress"`
	BillingCountry                *string           `json:"billingCountry"`
	BillingCity                   *string           `json:"billingCity"`
	BillingPostalCode             *string           `json:"billingPostalCode"`
	BillingAddress                *string           `json:"billingAddress"`
	BillingLat                    *float64          `json:"billingLat"`
	BillingLng                    *float64          `json:"billingLng"`
	Country                       *string           `json:"country"`
	City                          *string           `json:"city"`
	PostalCode                    *string           `json:"postalCode"`
	Address                       *string           `json:"address"`
	Latitude                      *float64          `json:"latitude"`
	Longitude                     *float64          `json:"longitude"`
	IsCredit                      *bool             `json:"isCredit"`
	CreditLimit                   *float64          `json:"creditLimit"`
	Balance                       *float64          `json:"balance"`
	MaxChequePeriod               *int64            `json:"maxChequePeriod"`
	MaxChequeValue                *float64          `json:"maxChequeValue"`
	AppliedCashBackOutput         json.RawMessage   `json:"appliedCashBackOutput"`
	ReturnDiscount                *float64          `json:"returnDiscount"`
	InvoicesPerRoute              json.RawMessage   `json:"invoicesPerRoute"`
	IsActive                      bool              `json:"isActive"`
	OnHold                        bool              `json:"onHold"`
	OnHoldReason                  *string           `json:"onHoldReason"`
	PaymentTerm                   json.RawMessage   `json:"paymentTerm"`
	CreatedBy                     *User             `json:"createdBy"`
	DueDateConfigNumber           *int64            `json:"dueDateConfigNumber"`
	DueDateConfigType             *string           `json:"dueDateConfigType"`
	PaymentTypes                  []PaymentType     `json:"paymentTypes"`
	Website                       *string           `json:"website"`
	TaxNumber                     *string           `json:"taxNumber"`
	CompanyRegistrationNumber     *string           `json:"companyRegistrationNumber"`
	Contacts                      []json.RawMessage `json:"contacts"`
	Currency                      string            `json:"currency"`
	CustomerRisk                  *string           `json:"customerRisk"`
	CustomerRiskColor             *string           `json:"customerRiskColor"`
	Organization                  string            `json:"organization"`
	DateCreated                   Time              `json:"dateCreated"`
	LastUpdated                   Time              `json:"lastUpdated"`
	// Region is present only when the organization has geographical
	// locations activated; then it is an object or null.
	Region RegionField `json:"region,omitzero"`

	// AnswerStatus is the HTTP status of the answer that carried the
	// customer (201 created, 200 updated, by the reference's examples);
	// 0 when not known. Not a member of the answer.
	AnswerStatus int `json:"-"`
}

func (c *Customer) takeStatus(st int) { c.AnswerStatus = st }

// Category is the nested customerCategory object.
type Category struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
	Href      string `json:"href"`
}

// Segmentation is the nested customerSegmentation object.
type Segmentation struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
	Href      string `json:"href"`
}

// User is the nested createdBy object.
type User struct {
	UserID    int64  `json:"userId"`
	Reference string `json:"reference"`
	Href      string `json:"href"`
}

// PaymentType is one item of paymentTypes.
type PaymentType struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
	Href      string `json:"href"`
}

// CustomerLink is the nested parentCustomer object. The reference only ever
// shows null there; crmsim answers this shape, and the client accepts it.
type CustomerLink struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Href      string `json:"href"`
}

// Region is the nested region object.
type Region struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Href string `json:"href"`
}

// RegionField is the region member: absent (Present false) when
// geographical locations are off, else null or a region.
type RegionField struct {
	Present bool
	Value   *Region
}

// IsZero reports an absent region, so that `omitzero` leaves it out.
func (r RegionField) IsZero() bool { return !r.Present }

// MarshalJSON writes null or the region.
func (r RegionField) MarshalJSON() ([]byte, error) { return json.Marshal(r.Value) }

// UnmarshalJSON records that the member was present.
func (r *RegionField) UnmarshalJSON(b []byte) error {
	r.Present = true
	r.Value = nil
	if string(b) == "null" {
		return nil
	}
	var v Region
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	r.Value = &v
	return nil
}

// Time is an API date-time, in UTC. The reference writes whole seconds;
// a server that answers milliseconds keeps them (and String writes them).
type Time struct{ time.Time }

// TimeLayoutMilli is TimeLayout with milliseconds.
const TimeLayoutMilli = "2006-01-02T15:04:05.000Z"

// NewTime truncates t to the second in UTC.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Second)} }

// String formats the time as the API does: whole seconds, or
// milliseconds when the time has them.
func (t Time) String() string {
	if t.Nanosecond() != 0 {
		return t.UTC().Format(TimeLayoutMilli)
	}
	return t.UTC().Format(TimeLayout)
}

// MarshalJSON writes the API's layout, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.String() + `"`), nil
}

// timeLayouts are the date-time forms read: RFC 3339 (with or without a
// fraction, Z or an offset), then the same without a zone (read as UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

// UnmarshalJSON reads the API's layout and, leniently, any RFC 3339 time,
// one without a zone (UTC) or milliseconds since the epoch; it keeps
// milliseconds and drops what is finer.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		t.Time = time.Time{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		// Not a string: milliseconds since the epoch, or nothing read.
		// (A string is not tried as a number first: the failed parse's
		// error cost two allocations a date, two dates a customer.)
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			t.Time = time.UnixMilli(ms).UTC()
			return nil
		}
		return fmt.Errorf("parse time: want a string, got %s", jsonKind(b))
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC().Truncate(time.Millisecond)
			return nil
		}
	}
	return fmt.Errorf("parse time: %d characters in no ISO-8601 form", len(s))
}
