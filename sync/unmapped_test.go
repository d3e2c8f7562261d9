package sync_test

import "testing"

// TestRun_UnmappedFieldNeverSent (issue 21 §1; the README's promise "a
// field that is not mapped is never sent"): an export whose phone, city
// and country columns are named like the CRM's fields, synced with a
// config that maps only reference, name, parent and email, leaves the
// CRM's hand-kept phone and city as they were, and a Country cell nobody
// mapped refuses no row. Only mapped fields reach the CRM's form.
func TestRun_UnmappedFieldNeverSent(t *testing.T) {
	c := newCSVJob(t, csvConfig())
	if _, err := c.store.Put("A", map[string]string{"name": "Alpha", "phone": "030-HAND", "city": "Kept"}); err != nil {
		t.Fatal(err)
	}
	export := []string{"reference;name;parent;email;phone;city;country",
		"A;Alpha GmbH;;a@x.example;999-ERP;Overwritten;Atlantis",
		"B;Beta;;b@x.example;888-ERP;Nowhere;Not a country"}
	out, err := c.run(t, export...)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if out.Plan.InvalidRows != 0 {
		t.Errorf("%d invalid rows: an unmapped Country refused a row", out.Plan.InvalidRows)
	}
	a, ok := c.store.ByReference("A")
	if !ok || a.Name != "Alpha GmbH" || deref(a.Phone) != "030-HAND" || deref(a.City) != "Kept" {
		t.Errorf("A in the CRM: name %q phone %q city %q; want the new name, the hand-kept phone and city",
			a.Name, deref(a.Phone), deref(a.City))
	}
	b, ok := c.store.ByReference("B")
	if !ok || deref(b.Phone) != "" || deref(b.City) != "" || deref(b.Country) != "" {
		t.Errorf("B in the CRM: phone %q city %q country %q; want none sent", deref(b.Phone), deref(b.City), deref(b.Country))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
