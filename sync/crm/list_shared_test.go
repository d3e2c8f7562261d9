package crm_test

import (
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// sharedPages serves 30 customers with texts, nested objects and lists,
// and fetches the same page twice.
func sharedPages(t *testing.T) (*crm.PageAnswer, *crm.PageAnswer) {
	t.Helper()
	ts := simtest.Start(t, crmsim.Options{})
	store := ts.Store
	for i := range 30 {
		_, err := store.Put(fmt.Sprintf("S-%02d", i), map[string]string{
			"name": fmt.Sprintf("Shared \u00e9 %d", i), "email": fmt.Sprintf("s%d@example.com", i),
			"categoryReference": "retail", "paymentTypes": `[{"id":7},{"id":9}]`, "creditLimit": "12.5",
			"billingCity": `Quote " and \ back`})
		if err != nil {
			t.Fatal(err)
		}
	}
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	q := crm.ListQuery{Sort: "id", Order: "asc", Max: 50}
	a, err := client.FetchPage(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := client.FetchPage(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// Guarantee: a page decoded sharing its answer's memory reads as the
// same page decoded with copies, and a Detached copy of its records
// equals them while sharing none of their texts.
func TestPageAnswer_DecodeShared(t *testing.T) {
	a, b := sharedPages(t)
	copied, err := a.Decode()
	if err != nil {
		t.Fatal(err)
	}
	shared, err := b.DecodeShared()
	if err != nil {
		t.Fatal(err)
	}
	if len(shared.Data) != 30 || !reflect.DeepEqual(copied, shared) {
		t.Fatalf("shared decoding differs: %d records\n%+v\n%+v", len(shared.Data), copied.Data[0], shared.Data[0])
	}
	for i := range shared.Data {
		c := &shared.Data[i]
		d := c.Detached()
		if !reflect.DeepEqual(c, d) {
			t.Fatalf("detached copy differs:\n%+v\n%+v", c, d)
		}
		pairs := [][2]string{
			{c.Reference, d.Reference}, {c.Name, d.Name}, {*c.Email, *d.Email}, {*c.BillingCity, *d.BillingCity},
			{c.CustomerCategory.Name, d.CustomerCategory.Name}, {c.PaymentTypes[1].Reference, d.PaymentTypes[1].Reference},
			{string(c.PocTenus), string(d.PocTenus)},
		}
		for _, p := range pairs {
			if len(p[0]) > 0 && unsafe.StringData(p[0]) == unsafe.StringData(p[1]) {
				t.Fatalf("record %d: the detached %q shares its memory", i, p[1])
			}
		}
		if c.Email == d.Email || c.CustomerCategory == d.CustomerCategory || &c.PaymentTypes[0] == &d.PaymentTypes[0] {
			t.Fatalf("record %d: the detached copy shares a pointer or a list", i)
		}
	}
}
