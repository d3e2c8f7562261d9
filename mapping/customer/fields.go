package customer

import (
	"slices"
	"strconv"
	"strings"
)

// Kind is how a field's text is read and written canonically.
type Kind int

const (
	KindText     Kind = iota // kept as written, trimmed
	KindBool                 // "true" / "false"
	KindDouble               // "5000", "-133.55": strconv.FormatFloat(f, 'f', -1, 64), zero unsigned
	KindInt                  // decimal digits
	KindCountry              // ISO 3166 alpha-2 code
	KindDueType              // "1" / "2" (see DueType)
	KindPayments             // payment type ids: [{"id":7},{"id":8}] (see PaymentTypes)
	KindCurrency             // ISO 4217 code, upper case
	KindImage                // a file, sent as the imageFile part
)

// Field is one CRM field an export can map.
type Field struct {
	// Name is the upsert parameter (reference section 11.5), and the
	// field's name in the config, the checkpoint and the reports.
	Name string
	Kind Kind
	// Answer is where the CRM's answer holds the field: a path of JSON
	// members, "customerCategory.reference" for the reference of the
	// customerCategory object; a list member applies the rest of the path
	// to each of its items ("paymentTypes.id"). NotGivenBack when the
	// answer does not hold it.
	Answer string
	// Cleared is what the CRM holds once the field is cleared: "" for most
	// fields, a default for some, AnyDefault when the CRM picks one.
	Cleared string
}

// NotGivenBack is the Answer of a field that the CRM's answer does not
// hold (imageFile: it answers a logo URL).
const NotGivenBack = ""

// AnyDefault is the Cleared of a field that the CRM fills with a default
// of its own when it is cleared. It holds a NUL byte, which no canonical
// value does.
const AnyDefault = "\x00any default"

// table lists every CRM field an export can map: the reference and the
// upsert's parameters (reference section 11.5). Adding a field is adding
// its line (in any place: the table is sorted by name when loaded).
var table = sortedByName([]Field{
	// name, kind, where the answer holds it, what the CRM holds once cleared
	{"address", KindText, "address", ""},
	{"barcode", KindText, "barcode", ""},
	{"billWithParent", KindBool, "billWithParent", "false"},
	{"billingAddress", KindText, "billingAddress", ""},
	{"billingCity", KindText, "billingCity", ""},
	{"billingCountry", KindCountry, "billingCountry", ""},
	{"billingLat", KindDouble, "billingLat", ""},
	{"billingLng", KindDouble, "billingLng", ""},
	{"billingPostalCode", KindText, "billingPostalCode", ""},
	{"categoryId", KindText, "customerCategory.reference", AnyDefault},
	{"city", KindText, "city", ""},
	{"comment", KindText, "comment", ""},
	{"companyRegistrationNumber", KindText, "companyRegistrationNumber", ""},
	{"country", KindCountry, "country", ""},
	{"creditLimit", KindDouble, "creditLimit", ""},
	{"currency", KindCurrency, "currency", AnyDefault},
	{"customerRisk", KindText, "customerRisk", ""},
	{"customerRiskColor", KindText, "customerRiskColor", ""},
	{"customerSegmentationId", KindText, "customerSegmentation.reference", ""},
	{"dueDateConfigNumber", KindInt, "dueDateConfigNumber", ""},
	{"dueDateConfigType", KindDueType, "dueDateConfigType", ""},
	{"email", KindText, "email", ""},
	{"fax", KindText, "fax", ""},
	{"imageFile", KindImage, NotGivenBack, ""},
	{"isActive", KindBool, "isActive", "true"},
	{"isSameAddress", KindBool, "isSameAddress", "true"},
	{"isSubCustomer", KindBool, "isSubCustomer", "false"},
	{"latitude", KindDouble, "latitude", ""},
	{"longitude", KindDouble, "longitude", ""},
	{"mobile", KindText, "mobile", ""},
	{"name", KindText, "name", ""},
	{"onHold", KindBool, "onHold", "false"},
	{"onHoldReason", KindText, "onHoldReason", ""},
	{"parentCustomer", KindText, "parentCustomer.reference", ""},
	{"paymentTypes", KindPayments, "paymentTypes.id", "[]"},
	{"phone", KindText, "phone", ""},
	{"postalCode", KindText, "postalCode", ""},
	{"reference", KindText, "reference", ""},
	{"regionId", KindInt, "region.id", ""},
	{"taxNumber", KindText, "taxNumber", ""},
	{"userId", KindText, "createdBy.reference", ""},
	{"website", KindText, "website", ""},
})

func sortedByName(fields []Field) []Field {
	slices.SortFunc(fields, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return fields
}

// Table returns every CRM field an export can map, sorted by name.
func Table() []Field { return slices.Clone(table) }

// Lookup returns the field of that name; false when there is none.
func Lookup(name string) (Field, bool) {
	i, ok := slices.BinarySearchFunc(table, name, func(f Field, name string) int { return strings.Compare(f.Name, name) })
	if !ok {
		return Field{}, false
	}
	return table[i], true
}

// Names returns the names of the fields an export can map, sorted.
func Names() []string {
	out := make([]string, len(table))
	for i, f := range table {
		out[i] = f.Name
	}
	return out
}

// IsCleared reports whether got is what the CRM holds once the field is
// cleared.
func (f Field) IsCleared(got string) bool {
	return f.Cleared == AnyDefault || got == f.Cleared
}

// Due-date configuration names as the API answers them. The reference
// documents "daysAfterInvoiceDate" for type 1; the name for type 2 is ours
// (crmsim answers it) and is accepted back on input.
const (
	DueDaysAfterInvoiceDate       = "daysAfterInvoiceDate"
	DueDaysAfterEndOfInvoiceMonth = "daysAfterEndOfInvoiceMonth"
)

// DueType returns the canonical due-date configuration type of s: "1" for
// 1 or DueDaysAfterInvoiceDate, "2" for 2 or DueDaysAfterEndOfInvoiceMonth
// (names in any case); false for anything else.
func DueType(s string) (string, bool) {
	switch {
	case s == "1" || strings.EqualFold(s, DueDaysAfterInvoiceDate):
		return "1", true
	case s == "2" || strings.EqualFold(s, DueDaysAfterEndOfInvoiceMonth):
		return "2", true
	}
	return "", false
}

// PaymentTypes returns the canonical text of a list of payment type ids,
// which is also how the API takes them: [{"id":7},{"id":8}], ascending,
// each once. It sorts ids in place.
func PaymentTypes(ids []int64) string {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b := make([]byte, 0, 2+12*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '}')
	}
	return string(append(b, ']'))
}
