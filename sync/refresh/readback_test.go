package refresh_test

import (
	"maps"
	"math"
	"slices"
	"testing"

	"erpsync/mapping"
	"erpsync/mapping/customer"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
	"erpsync/sync/refresh"
)

// The CRM's numbers read as the export's do: -0 is 0 on both sides (mapping
// writes "-0,00" as "0").
func TestCRMValues_Numbers(t *testing.T) {
	negZero, limit := math.Copysign(0, -1), 5000.5
	got := refresh.CRMValues(&crm.Customer{CreditLimit: &negZero, BillingLat: &limit}, []string{"creditLimit", "billingLat", "longitude"}, nil)
	want := map[string]string{"creditLimit": "0", "billingLat": "5000.5", "longitude": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// fullCustomer is an answer holding every field of the table, and what
// each reads as canonically.
func fullCustomer() (*crm.Customer, map[string]string) {
	c := &crm.Customer{Reference: "K1", Name: "Alpha", Barcode: ptr("123"), IsActive: false,
		CustomerCategory: &crm.Category{ID: 3, Reference: "retail"}, IsSubCustomer: true,
		ParentCustomer: &crm.CustomerLink{ID: 9, Reference: "P1"}, BillWithParent: true,
		CustomerSegmentation: &crm.Segmentation{ID: 1, Reference: "seg_a"}, CreatedBy: &crm.User{UserID: 2, Reference: "emp-002"},
		IsSameAddress: false, BillingCountry: ptr("France"), BillingCity: ptr("Nice"), BillingPostalCode: ptr("06000"),
		BillingAddress: ptr("1 quai"), BillingLat: ptr(43.7), BillingLng: ptr(-7.25), Country: ptr("de"), City: ptr("Köln"),
		PostalCode: ptr("50667"), Address: ptr("Dom"), Latitude: ptr(50.94), Longitude: ptr(6.96), Email: ptr("a@b.c"),
		Phone: ptr("+33 1"), Mobile: ptr("+33 6"), Fax: ptr("+33 2"), Comment: ptr("two\nlines"), Website: ptr("https://a.example"),
		CreditLimit: ptr(5000.0), DueDateConfigNumber: ptr(int64(30)), DueDateConfigType: ptr(crm.DueDaysAfterEndOfInvoiceMonth),
		TaxNumber: ptr("FR1"), CompanyRegistrationNumber: ptr("RCS"), Currency: "USD",
		PaymentTypes: []crm.PaymentType{{ID: 9}, {ID: 7}, {ID: 9}}, Region: crm.RegionField{Present: true, Value: &crm.Region{ID: 3}},
		CustomerRisk: ptr("low"), CustomerRiskColor: ptr("green"), OnHold: true, OnHoldReason: ptr("unpaid")}
	want := map[string]string{"reference": "K1", "name": "Alpha", "barcode": "123", "isActive": "false", "categoryId": "retail",
		"isSubCustomer": "true", "parentCustomer": "P1", "billWithParent": "true", "customerSegmentationId": "seg_a",
		"userId": "emp-002", "isSameAddress": "false", "billingCountry": "FR", "billingCity": "Nice", "billingPostalCode": "06000",
		"billingAddress": "1 quai", "billingLat": "43.7", "billingLng": "-7.25", "country": "DE", "city": "Köln",
		"postalCode": "50667", "address": "Dom", "latitude": "50.94", "longitude": "6.96", "email": "a@b.c", "phone": "+33 1",
		"mobile": "+33 6", "fax": "+33 2", "comment": "two\nlines", "website": "https://a.example", "creditLimit": "5000",
		"dueDateConfigNumber": "30", "dueDateConfigType": "2", "taxNumber": "FR1", "companyRegistrationNumber": "RCS",
		"currency": "USD", "paymentTypes": `[{"id":7},{"id":9}]`, "regionId": "3", "customerRisk": "low",
		"customerRiskColor": "green", "onHold": "true", "onHoldReason": "unpaid"}
	return c, want
}

// Every field of the table that the CRM gives back is read from where its
// answer holds it; imageFile (a logo URL in the answer) and names outside
// the table are left out.
func TestCRMValues_EveryField(t *testing.T) {
	c, want := fullCustomer()
	got := refresh.CRMValues(c, append(customer.Names(), "colour"), mapping.CountryCode)
	if _, ok := got["imageFile"]; ok || len(got) != len(customer.Names())-1 {
		t.Errorf("fields read: %q, want every field of the table but imageFile", slices.Sorted(maps.Keys(got)))
	}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s = %q, want %q", f, got[f], w)
		}
	}
}

// An answer without values reads as cleared fields, and compares as equal
// to an export that cleared them, the CRM's defaults included.
func TestCRMValues_Cleared(t *testing.T) {
	c := &crm.Customer{Reference: "K1", Name: "Alpha", IsActive: true, IsSameAddress: true, Currency: "EUR",
		CustomerCategory: &crm.Category{Reference: "root"}, Region: crm.RegionField{Present: true}}
	names := customer.Names()
	got := refresh.CRMValues(c, names, mapping.CountryCode)
	for f, w := range map[string]string{"isActive": "true", "onHold": "false", "paymentTypes": "[]", "regionId": "",
		"parentCustomer": "", "creditLimit": "", "dueDateConfigType": "", "currency": "EUR", "categoryId": "root"} {
		if got[f] != w {
			t.Errorf("%s = %q, want %q", f, got[f], w)
		}
	}
	cleared := map[string]string{}
	for _, f := range names {
		cleared[f] = ""
	}
	cleared["reference"], cleared["name"] = "K1", "Alpha"
	if d := refresh.Differences(cleared, got); len(d) != 0 {
		t.Errorf("differences = %+v, want none", d)
	}
}

func TestDifferences(t *testing.T) {
	want := map[string]string{"name": "Alpha", "email": "", "isActive": "", "onHold": "", "city": "Nice", "imageFile": "a.png"}
	got := map[string]string{"name": "Beta", "email": "x@y.z", "isActive": "false", "onHold": "false", "city": "Nice"}
	d := refresh.Differences(want, got)
	wantD := []plan.Change{{Field: "email", Old: "x@y.z", New: ""}, {Field: "isActive", Old: "false", New: ""},
		{Field: "name", Old: "Beta", New: "Alpha"}}
	if !slices.Equal(d, wantD) {
		t.Errorf("differences = %+v, want %+v", d, wantD)
	}
}

// BenchmarkCRMValues reads back 20 fields of an answer, as the apply step
// does after each upsert and the drift check for each customer it pulls.
func BenchmarkCRMValues(b *testing.B) {
	c, want := fullCustomer()
	fields := slices.Sorted(maps.Keys(want))[:20]
	b.ReportAllocs()
	for b.Loop() {
		refresh.CRMValues(c, fields, mapping.CountryCode)
	}
}

// TestDueTypeOfAnswer: the numbers and the known names, then a name by
// what it says: of the month, type 2; of the invoice date, type 1.
func TestDueTypeOfAnswer(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "2": "2", "daysAfterInvoiceDate": "1", "daysAfterEndOfInvoiceMonth": "2",
		"daysAfterEndOfMonth": "2", "END_OF_MONTH": "2", "endOfMonthPlusDays": "2", "days_after_invoice_date": "1",
		"weekly": "", "3": "", "": "",
	} {
		got, ok := refresh.DueTypeOfAnswer(in)
		if got != want || ok != (want != "") {
			t.Errorf("DueTypeOfAnswer(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
