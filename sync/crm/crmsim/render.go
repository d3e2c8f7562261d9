package crmsim

import (
	"encoding/json"
	"strconv"
	"time"

	"erpsync/sync/crm"
)

// Date-time layouts of the answers: whole seconds, as the reference's
// examples show, or milliseconds (-time-precision ms), as some servers write.
const (
	layoutSeconds = "2006-01-02T15:04:05Z"
	layoutMillis  = "2006-01-02T15:04:05.000Z"
)

// customerJSON is a customer as the API writes it: crmsim's own reading of
// the reference's members and their order, with the date-times in the
// simulator's precision. It does not go through the client's encoding.
type customerJSON struct {
	ID                            int64             `json:"id"`
	Reference                     string            `json:"reference"`
	Reference2                    *string           `json:"reference2"`
	Name                          string            `json:"name"`
	CategoryReference             *string           `json:"categoryReference"`
	CustomerCategory              *crm.Category     `json:"customerCategory"`
	IsSubCustomer                 bool              `json:"isSubCustomer"`
	ParentCustomer                any               `json:"parentCustomer"` // parentJSON's value
	BillWithParent                bool              `json:"billWithParent"`
	CustomerSegmentationReference *string           `json:"customerSegmentationReference"`
	CustomerSegmentation          *crm.Segmentation `json:"customerSegmentation"`
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
	CreatedBy                     *crm.User         `json:"createdBy"`
	DueDateConfigNumber           *int64            `json:"dueDateConfigNumber"`
	DueDateConfigType             *string           `json:"dueDateConfigType"`
	PaymentTypes                  []crm.PaymentType `json:"paymentTypes"`
	Website                       *string           `json:"website"`
	TaxNumber                     *string           `json:"taxNumber"`
	CompanyRegistrationNumber     *string           `json:"companyRegistrationNumber"`
	Contacts                      []json.RawMessage `json:"contacts"`
	Currency                      string            `json:"currency"`
	CustomerRisk                  *string           `json:"customerRisk"`
	CustomerRiskColor             *string           `json:"customerRiskColor"`
	Organization                  string            `json:"organization"`
	DateCreated                   *string           `json:"dateCreated"`
	LastUpdated                   *string           `json:"lastUpdated"`
	// Region is written only when the organization has geographical
	// locations; then it is an object or null.
	Region regionJSON `json:"region,omitzero"`
}

// parentJSON is the parentCustomer member: null (a nil link), the link
// object, or (Quirks.ParentShape "id") the parent's bare id. It is a
// plain value that encoding/json writes itself: a MarshalJSON method
// costs an encoder, a copy and a validation of its output in every
// answer, most of them null (issue 22).
func parentJSON(link *crm.CustomerLink, bareID bool) any {
	if link != nil && bareID {
		return link.ID
	}
	return link
}

// regionJSON is the region member: left out, null, or a region.
type regionJSON struct {
	present bool
	value   *crm.Region
}

func (r regionJSON) IsZero() bool                 { return !r.present }
func (r regionJSON) MarshalJSON() ([]byte, error) { return json.Marshal(r.value) }

// wire dresses a stored customer for the answer, dates in layout.
func wire(c *crm.Customer, layout string) customerJSON {
	return customerJSON{
		ID: c.ID, Reference: c.Reference, Reference2: c.Reference2, Name: c.Name,
		CategoryReference: c.CategoryReference, CustomerCategory: c.CustomerCategory,
		IsSubCustomer: c.IsSubCustomer, ParentCustomer: parentJSON(c.ParentCustomer, false), BillWithParent: c.BillWithParent,
		CustomerSegmentationReference: c.CustomerSegmentationReference, CustomerSegmentation: c.CustomerSegmentation,
		PocTenus: c.PocTenus, Email: c.Email, Logo: c.Logo, Phone: c.Phone, Mobile: c.Mobile, Fax: c.Fax,
		Comment: c.Comment, Barcode: c.Barcode, IsSameAddress: c.IsSameAddress,
		BillingCountry: c.BillingCountry, BillingCity: c.BillingCity, BillingPostalCode: c.BillingPostalCode,
		BillingAddress: c.BillingAddress, BillingLat: c.BillingLat, BillingLng: c.BillingLng,
		Country: c.Country, City: c.City, PostalCode: c.PostalCode, Address: c.Address,
		Latitude: c.Latitude, Longitude: c.Longitude, IsCredit: c.IsCredit, CreditLimit: c.CreditLimit,
		Balance: c.Balance, MaxChequePeriod: c.MaxChequePeriod, MaxChequeValue: c.MaxChequeValue,
		AppliedCashBackOutput: c.AppliedCashBackOutput, ReturnDiscount: c.ReturnDiscount,
		InvoicesPerRoute: c.InvoicesPerRoute, IsActive: c.IsActive, OnHold: c.OnHold,
		OnHoldReason: c.OnHoldReason, PaymentTerm: c.PaymentTerm, CreatedBy: c.CreatedBy,
		DueDateConfigNumber: c.DueDateConfigNumber, DueDateConfigType: c.DueDateConfigType,
		PaymentTypes: c.PaymentTypes, Website: c.Website, TaxNumber: c.TaxNumber,
		CompanyRegistrationNumber: c.CompanyRegistrationNumber, Contacts: c.Contacts, Currency: c.Currency,
		CustomerRisk: c.CustomerRisk, CustomerRiskColor: c.CustomerRiskColor, Organization: c.Organization,
		DateCreated: dateText(c.DateCreated.Time, layout), LastUpdated: dateText(c.LastUpdated.Time, layout),
		Region: regionJSON{present: c.Region.Present, value: c.Region.Value},
	}
}

// dateText is a date-time in UTC, or nil (null) for none.
func dateText(t time.Time, layout string) *string {
	if t.IsZero() {
		return nil
	}
	text := t.UTC().Format(layout)
	return &text
}

// paging is the list answer's paging object, members in the reference's
// order; writePage writes the answer, the paging then the customers
// ("data").
type paging struct {
	Total    int     `json:"total"`
	Max      int     `json:"max"`
	Offset   int     `json:"offset"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
}

// render dresses a customer for the wire (dress, then wire).
func (s *Server) render(c crm.Customer, version string) customerJSON {
	c = s.dress(c, version)
	w := wire(&c, s.layout)
	w.ParentCustomer = parentJSON(c.ParentCustomer, s.opts.ParentShape == "id")
	return w
}

// dress fills a customer's links for an API version and names its due type
// as answered, on copies of the nested objects (the store's stay as they are).
func (s *Server) dress(c crm.Customer, version string) crm.Customer {
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
	c.DueDateConfigType = s.dueTypeName(c.DueDateConfigType)
	return c
}

// dueTypeName is the name a stored due type is answered under: the store
// keeps DefaultDueTypeNames, Quirks.DueTypeNames may rename them.
func (s *Server) dueTypeName(stored *string) *string {
	names := s.opts.DueTypeNames
	if stored == nil || len(names) != 2 {
		return stored
	}
	for i, name := range DefaultDueTypeNames {
		if *stored == name {
			return &names[i]
		}
	}
	return stored
}
