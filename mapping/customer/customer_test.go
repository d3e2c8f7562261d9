package customer_test

import (
	"slices"
	"testing"

	"erpsync/mapping/customer"
)

func TestTable(t *testing.T) {
	names := customer.Names()
	if len(names) != 42 {
		t.Errorf("%d fields, want the 42 of the upsert (reference and section 11.5's parameters)", len(names))
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("names are not sorted and unique: %q", names)
	}
	for _, f := range customer.Table() {
		got, ok := customer.Lookup(f.Name)
		if !ok || got != f {
			t.Errorf("Lookup(%q) = %+v, %v", f.Name, got, ok)
		}
		if (f.Answer == customer.NotGivenBack) != (f.Kind == customer.KindImage) {
			t.Errorf("%s: answer %q; only imageFile is not given back", f.Name, f.Answer)
		}
	}
	if _, ok := customer.Lookup("colour"); ok {
		t.Error("Lookup found a field that is not in the table")
	}
}

func TestField_IsCleared(t *testing.T) {
	for _, tc := range []struct {
		field, got string
		want       bool
	}{
		{"email", "", true}, {"email", "x@y.z", false},
		{"isActive", "true", true}, {"isActive", "false", false},
		{"onHold", "false", true}, {"paymentTypes", "[]", true}, {"paymentTypes", "", false},
		{"categoryId", "root", true}, {"currency", "EUR", true},
	} {
		f, _ := customer.Lookup(tc.field)
		if got := f.IsCleared(tc.got); got != tc.want {
			t.Errorf("%s.IsCleared(%q) = %v, want %v", tc.field, tc.got, got, tc.want)
		}
	}
}

func TestDueType(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "2": "2", "DAYSAFTERINVOICEDATE": "1",
		customer.DueDaysAfterEndOfInvoiceMonth: "2", "3": "", "": ""} {
		got, ok := customer.DueType(in)
		if got != want || ok != (want != "") {
			t.Errorf("DueType(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestPaymentTypes(t *testing.T) {
	ids := []int64{8, 7, 8}
	if got := customer.PaymentTypes(ids); got != `[{"id":7},{"id":8}]` {
		t.Errorf("PaymentTypes = %s", got)
	}
	if got := customer.PaymentTypes(nil); got != "[]" {
		t.Errorf("PaymentTypes(nil) = %s", got)
	}
}

func TestCustomer(t *testing.T) {
	c := customer.New("K1", 2, map[string]string{"reference": "K1", "name": "Alpha", "email": ""}, "h")
	if c.Field("name") != "Alpha" || c.Field("city") != "" || !slices.Equal(c.FieldNames(), []string{"email", "name", "reference"}) {
		t.Errorf("customer = %+v", c)
	}
	keys := []string{"name", "reference"}
	d := customer.FromSorted("K2", 3, keys, []string{"Beta", "K2"})
	var got []string
	for k, v := range d.All() {
		got = append(got, k+"="+v)
	}
	if !slices.Equal(got, []string{"name=Beta", "reference=K2"}) || d.Fields()["name"] != "Beta" {
		t.Errorf("All = %q, Fields = %v", got, d.Fields())
	}
}
