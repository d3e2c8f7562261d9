package crm_test

import (
	"context"
	"testing"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// TestClient_ParentAnsweredAsID: a CRM answering parentCustomer as the
// parent's bare id. The client completes the reference in every answer
// (an upsert's, a show's, a page's, the parent on another page), asking
// each parent once.
func TestClient_ParentAnsweredAsID(t *testing.T) {
	sim, ts := MustSim(t, crmsim.Options{Quirks: crmsim.Quirks{ParentShape: "id"}})
	c := MustClient(t, ts.URL, crm.Config{})
	ctx := context.Background()
	parent, err := c.Upsert(ctx, "P-1", upsertForm("Parent"))
	if err != nil {
		t.Fatal(err)
	}
	want := func(where string, cu *crm.Customer) {
		t.Helper()
		if p := cu.ParentCustomer; p == nil || p.ID != parent.ID || p.Reference != "P-1" {
			t.Errorf("%s: %s's parent = %+v, want id %d reference P-1", where, cu.Reference, p, parent.ID)
		}
	}
	for _, ref := range []string{"S-1", "S-2", "S-3"} {
		sub, err := c.Upsert(ctx, ref, upsertForm("Sub").Set("parentCustomer", "P-1").Set("isSubCustomer", "true"))
		if err != nil {
			t.Fatal(err)
		}
		want("upsert", sub)
	}
	shown, err := c.ShowByReference(ctx, "S-2")
	if err != nil {
		t.Fatal(err)
	}
	want("show", shown)
	for _, q := range []crm.ListQuery{{}, {Max: 1, Offset: 3}} { // the whole list; a page without the parent
		p, err := c.ListPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Data {
			if p.Data[i].Reference != "P-1" {
				want("list", &p.Data[i])
			}
		}
	}
	if n := sim.Stats()[crm.OpShow]; n != 1 {
		t.Errorf("%d GET /customers/{id}, want 1 (the parent, once)", n)
	}
}

// TestCustomerLink_Shapes: parentCustomer as an object, a number, a
// string of digits (an id) or another string (a reference).
func TestCustomerLink_Shapes(t *testing.T) {
	for body, want := range map[string]crm.CustomerLink{
		`{"id":7,"reference":"P","href":"/x"}`: {ID: 7, Reference: "P", Href: "/x"},
		`7`:                                    {ID: 7},
		`"7"`:                                  {ID: 7},
		`"P-7"`:                                {Reference: "P-7"},
	} {
		c, err := crm.DecodeCustomer([]byte(`{"id":1,"reference":"S","parentCustomer":` + body + `}`))
		if err != nil || c.ParentCustomer == nil || *c.ParentCustomer != want {
			t.Errorf("%s: %+v, %v; want %+v", body, c.ParentCustomer, err, want)
		}
	}
}

// TestClient_ParentRenamed: a parent renamed after its sub-customers'
// parent was resolved is read under its new reference once an answer
// carries it.
func TestClient_ParentRenamed(t *testing.T) {
	_, ts := MustSim(t, crmsim.Options{Quirks: crmsim.Quirks{ParentShape: "id"}})
	c := MustClient(t, ts.URL, crm.Config{})
	ctx := context.Background()
	parent, err := c.Upsert(ctx, "P-1", upsertForm("Parent"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upsert(ctx, "S-1", upsertForm("Sub").Set("parentCustomer", "P-1").Set("isSubCustomer", "true")); err != nil {
		t.Fatal(err)
	}
	other := MustClient(t, ts.URL, crm.Config{}) // a hand edit, by another client
	if _, err := other.Update(ctx, parent.ID, crm.NewForm().Set("reference", "P-RENAMED")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Show(ctx, parent.ID); err != nil { // the renamed parent, in an answer
		t.Fatal(err)
	}
	sub, err := c.ShowByReference(ctx, "S-1")
	if err != nil {
		t.Fatal(err)
	}
	if p := sub.ParentCustomer; p == nil || p.Reference != "P-RENAMED" {
		t.Errorf("parent after the rename: %+v, want P-RENAMED", p)
	}
}
