package refresh

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"erpsync/mapping/customer"
	"erpsync/sync/crm"
)

// A table line that names no member of the answer, or one of another type
// than its kind, is refused when the table is loaded.
func TestResolve(t *testing.T) {
	ct := reflect.TypeFor[crm.Customer]()
	for _, tc := range []struct {
		f    customer.Field
		want string // "" for success
	}{
		{customer.Field{Name: "regionId", Kind: customer.KindInt, Answer: "region.id"}, ""},
		{customer.Field{Name: "paymentTypes", Kind: customer.KindPayments, Answer: "paymentTypes.id"}, ""},
		{customer.Field{Name: "x", Kind: customer.KindText, Answer: "customerCategory.nope"}, `has no member "nope"`},
		{customer.Field{Name: "x", Kind: customer.KindText, Answer: "email.more"}, `has no member "more"`},
		{customer.Field{Name: "x", Kind: customer.KindBool, Answer: "email"}, "want a bool"},
		{customer.Field{Name: "x", Kind: customer.KindInt, Answer: "paymentTypes.id"}, "list true"},
	} {
		_, err := resolve(ct, tc.f)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.f.Answer, err, tc.want)
		}
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for _, bucket := range answers {
			for _, a := range bucket {
				yield(a.field)
			}
		}
	})
	if want := slices.DeleteFunc(customer.Names(), func(n string) bool { return n == "imageFile" }); !slices.Equal(got, want) {
		t.Errorf("answers for %q, want %q", got, want)
	}
}
