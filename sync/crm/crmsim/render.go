package crmsim

import (
	"bytes"
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
	c      crm.Customer
	layout string
}

// member is one name and value of a JSON object, in order.
type member struct {
	name  string
	value any
}

// MarshalJSON writes the members in the order of the reference's examples;
// region only when the organization has geographical locations.
func (w customerJSON) MarshalJSON() ([]byte, error) {
	c := &w.c
	members := []member{
		{"id", c.ID}, {"reference", c.Reference}, {"reference2", c.Reference2}, {"name", c.Name},
		{"categoryReference", c.CategoryReference}, {"customerCategory", c.CustomerCategory},
		{"isSubCustomer", c.IsSubCustomer}, {"parentCustomer", c.ParentCustomer},
		{"billWithParent", c.BillWithParent}, {"customerSegmentationReference", c.CustomerSegmentationReference},
		{"customerSegmentation", c.CustomerSegmentation}, {"pocTenus", c.PocTenus},
		{"email", c.Email}, {"logo", c.Logo}, {"phone", c.Phone}, {"mobile", c.Mobile}, {"fax", c.Fax},
		{"comment", c.Comment}, {"barcode", c.Barcode}, {"isSameAddress", c.IsSameAddress},
		{"billingCountry", c.BillingCountry}, {"billingCity", c.BillingCity},
		{"billingPostalCode", c.BillingPostalCode}, {"billingAddress", c.BillingAddress},
		{"billingLat", c.BillingLat}, {"billingLng", c.BillingLng},
		{"country", c.Country}, {"city", c.City}, {"postalCode", c.PostalCode}, {"address", c.Address},
		{"latitude", c.Latitude}, {"longitude", c.Longitude},
		{"isCredit", c.IsCredit}, {"creditLimit", c.CreditLimit}, {"balance", c.Balance},
		{"maxChequePeriod", c.MaxChequePeriod}, {"maxChequeValue", c.MaxChequeValue},
		{"appliedCashBackOutput", c.AppliedCashBackOutput}, {"returnDiscount", c.ReturnDiscount},
		{"invoicesPerRoute", c.InvoicesPerRoute}, {"isActive", c.IsActive}, {"onHold", c.OnHold},
		{"onHoldReason", c.OnHoldReason}, {"paymentTerm", c.PaymentTerm}, {"createdBy", c.CreatedBy},
		{"dueDateConfigNumber", c.DueDateConfigNumber}, {"dueDateConfigType", c.DueDateConfigType},
		{"paymentTypes", c.PaymentTypes}, {"website", c.Website}, {"taxNumber", c.TaxNumber},
		{"companyRegistrationNumber", c.CompanyRegistrationNumber}, {"contacts", c.Contacts},
		{"currency", c.Currency}, {"customerRisk", c.CustomerRisk}, {"customerRiskColor", c.CustomerRiskColor},
		{"organization", c.Organization},
		{"dateCreated", w.date(c.DateCreated.Time)}, {"lastUpdated", w.date(c.LastUpdated.Time)},
	}
	if c.Region.Present {
		members = append(members, member{"region", c.Region.Value})
	}
	return writeObject(members)
}

// date is the text of a date-time in UTC, or nil (null) for none.
func (w customerJSON) date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(w.layout)
}

// writeObject writes members as a JSON object, in their order.
func writeObject(members []member) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(m.name))
		b.WriteByte(':')
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// page is the list answer.
type page struct {
	Paging paging         `json:"paging"`
	Data   []customerJSON `json:"data"`
}

// paging is the list answer's paging object, members in the reference's
// order.
type paging struct {
	Total    int     `json:"total"`
	Max      int     `json:"max"`
	Offset   int     `json:"offset"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
}

// render fills the links of a customer for an API version and dresses it
// for the wire. The nested objects are copied: the store's own are never
// changed.
func (s *Server) render(c crm.Customer, version string) customerJSON {
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
	return customerJSON{c: c, layout: s.layout}
}
