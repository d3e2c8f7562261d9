package sync

import (
	"slices"
	"strconv"
	"strings"

	"erpsync/sync/crm"
)

// CRMValues returns what the CRM holds for the given upsert fields, in the
// canonical text form that mapping gives the export's values, so that the
// two compare as equal when they mean the same: the CRM answers
// "daysAfterInvoiceDate" for 1, 5000 for "5.000,00", and nested objects
// where the upsert sent references.
//
// countryCode canonicalises a country (code or English name) and reports
// whether it knew it; mapping provides it.
func CRMValues(c *crm.Customer, fields []string, countryCode func(string) (string, bool)) map[string]string {
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		v, ok := crmValue(c, f, countryCode)
		if ok {
			out[f] = v
		}
	}
	return out
}

// crmValue returns one field's canonical value; false for a field whose
// value the CRM does not give back (imageFile: it answers a logo URL).
func crmValue(c *crm.Customer, field string, countryCode func(string) (string, bool)) (string, bool) {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		v := *p
		if v == 0 {
			v = 0 // -0 is 0, as in mapping's canonical numbers
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	country := func(p *string) string {
		s := str(p)
		if code, ok := countryCode(s); ok {
			return code
		}
		return s
	}
	switch field {
	case "reference":
		return c.Reference, true
	case "name":
		return c.Name, true
	case "barcode":
		return str(c.Barcode), true
	case "isActive":
		return strconv.FormatBool(c.IsActive), true
	case "categoryId":
		if c.CustomerCategory == nil {
			return "", true
		}
		return c.CustomerCategory.Reference, true
	case "isSubCustomer":
		return strconv.FormatBool(c.IsSubCustomer), true
	case "parentCustomer":
		if c.ParentCustomer == nil {
			return "", true
		}
		return c.ParentCustomer.Reference, true
	case "billWithParent":
		return strconv.FormatBool(c.BillWithParent), true
	case "customerSegmentationId":
		if c.CustomerSegmentation == nil {
			return "", true
		}
		return c.CustomerSegmentation.Reference, true
	case "userId":
		if c.CreatedBy == nil {
			return "", true
		}
		return c.CreatedBy.Reference, true
	case "isSameAddress":
		return strconv.FormatBool(c.IsSameAddress), true
	case "billingCountry":
		return country(c.BillingCountry), true
	case "billingCity":
		return str(c.BillingCity), true
	case "billingPostalCode":
		return str(c.BillingPostalCode), true
	case "billingAddress":
		return str(c.BillingAddress), true
	case "billingLat":
		return num(c.BillingLat), true
	case "billingLng":
		return num(c.BillingLng), true
	case "country":
		return country(c.Country), true
	case "city":
		return str(c.City), true
	case "postalCode":
		return str(c.PostalCode), true
	case "address":
		return str(c.Address), true
	case "latitude":
		return num(c.Latitude), true
	case "longitude":
		return num(c.Longitude), true
	case "email":
		return str(c.Email), true
	case "phone":
		return str(c.Phone), true
	case "mobile":
		return str(c.Mobile), true
	case "fax":
		return str(c.Fax), true
	case "comment":
		return str(c.Comment), true
	case "website":
		return str(c.Website), true
	case "creditLimit":
		return num(c.CreditLimit), true
	case "dueDateConfigNumber":
		if c.DueDateConfigNumber == nil {
			return "", true
		}
		return strconv.FormatInt(*c.DueDateConfigNumber, 10), true
	case "dueDateConfigType":
		switch strings.ToLower(str(c.DueDateConfigType)) {
		case "":
			return "", true
		case "1", strings.ToLower(crm.DueDaysAfterInvoiceDate):
			return "1", true
		case "2", strings.ToLower(crm.DueDaysAfterEndOfInvoiceMonth):
			return "2", true
		}
		return str(c.DueDateConfigType), true
	case "taxNumber":
		return str(c.TaxNumber), true
	case "companyRegistrationNumber":
		return str(c.CompanyRegistrationNumber), true
	case "currency":
		return c.Currency, true
	case "paymentTypes":
		ids := make([]int64, 0, len(c.PaymentTypes))
		for _, pt := range c.PaymentTypes {
			ids = append(ids, pt.ID)
		}
		slices.Sort(ids)
		return crm.PaymentTypesJSON(slices.Compact(ids)), true
	case "regionId":
		if c.Region.Value == nil {
			return "", true
		}
		return strconv.FormatInt(c.Region.Value.ID, 10), true
	case "customerRisk":
		return str(c.CustomerRisk), true
	case "customerRiskColor":
		return str(c.CustomerRiskColor), true
	case "onHold":
		return strconv.FormatBool(c.OnHold), true
	case "onHoldReason":
		return str(c.OnHoldReason), true
	}
	return "", false
}

// Differences lists the fields whose values differ between want (what
// erpsync pushed, or the export) and got (the CRM), sorted by field. A
// field missing from got is not compared (the CRM does not give it back).
func Differences(want, got map[string]string) []Change {
	var out []Change
	for f, w := range want {
		g, ok := got[f]
		if !ok || equalValue(f, w, g) {
			continue
		}
		out = append(out, Change{Field: f, Old: g, New: w})
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// equalValue compares canonical values; a cleared value of a field that the
// CRM fills with a default is taken as equal to that default.
func equalValue(field, want, got string) bool {
	if want == got {
		return true
	}
	if want == "" {
		switch field {
		case "isActive", "isSameAddress":
			return got == "true"
		case "billWithParent", "onHold", "isSubCustomer":
			return got == "false"
		case "paymentTypes":
			return got == "[]"
		case "categoryId", "currency":
			return true // the CRM puts its default there
		}
	}
	return false
}

// Change is one field's old and new canonical value.
type Change struct {
	Field string
	Old   string
	New   string
}
