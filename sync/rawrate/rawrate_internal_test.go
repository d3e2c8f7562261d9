package rawrate

import (
	"net/url"
	"slices"
	"testing"

	"erpsync/sync/crm"
)

// form is the form of a customer whose parent is parent ("" for none).
func form(parent string) *crm.Form {
	v := url.Values{"name": {"n"}, "isSubCustomer": {"false"}}
	if parent != "" {
		v.Set("parentCustomer", parent)
		v.Set("isSubCustomer", "true")
	}
	return &crm.Form{Values: v}
}

// Guarantee: a sub-customer keeps its parent only when the parent is
// among the forms and is no sub-customer itself; else it goes as no
// sub-customer, without a parent (Send has two waves, not an import's
// levels).
func TestLinkParents(t *testing.T) {
	fs := Forms{
		Refs: []string{"P", "C", "G", "O", "S"},
		Forms: []*crm.Form{
			form(""),       // P: a parent
			form("P"),      // C: its sub-customer
			form("C"),      // G: a sub-customer of a sub-customer
			form("ABSENT"), // O: its parent not among the forms
			form("S"),      // S: its own parent
		},
	}
	fs.linkParents()
	if want := []int{-1, 0, -1, -1, -1}; !slices.Equal(fs.Parent, want) {
		t.Fatalf("Parent = %v, want %v", fs.Parent, want)
	}
	for k, f := range fs.Forms {
		linked := f.Values.Has("parentCustomer")
		if sub := f.Values.Get("isSubCustomer") == "true"; linked != (k == 1) || sub != linked {
			t.Errorf("%s: parentCustomer %v, isSubCustomer %q; want a parent and a sub-customer only for C",
				fs.Refs[k], linked, f.Values.Get("isSubCustomer"))
		}
	}
}

// Guarantee: the forms sent link each sub-customer to its parent of the
// first round, and leave the forms read as they were (Send may run again
// under another prefix).
func TestLinked(t *testing.T) {
	fs := Forms{Refs: []string{"P", "C"}, Forms: []*crm.Form{form(""), form("P")}}
	fs.linkParents()
	forms, isParent := fs.linked("X", 2)
	if got := forms[1].Values.Get("parentCustomer"); got != "X0-P" {
		t.Errorf("sent parentCustomer %q, want X0-P", got)
	}
	if got := fs.Forms[1].Values.Get("parentCustomer"); got != "P" {
		t.Errorf("the form read now names %q, want P still", got)
	}
	if !slices.Equal(isParent, []bool{true, false}) {
		t.Errorf("isParent = %v, want [true false]", isParent)
	}
}

// Guarantee: of fewer upserts than forms, a sub-customer whose parent is
// not sent goes without it (a link to a parent the CRM never holds would
// fail the measure).
func TestLinked_ParentNotSent(t *testing.T) {
	fs := Forms{Refs: []string{"C", "P"}, Forms: []*crm.Form{form("P"), form("")}}
	fs.linkParents()
	forms, isParent := fs.linked("X", 1)
	if f := forms[0].Values; f.Has("parentCustomer") || f.Get("isSubCustomer") != "false" {
		t.Errorf("sent %v; want no parent, no sub-customer", f)
	}
	if !slices.Equal(isParent, []bool{false, false}) {
		t.Errorf("isParent = %v, want none", isParent)
	}
	if got := fs.Forms[0].Values.Get("parentCustomer"); got != "P" {
		t.Errorf("the form read now names %q, want P still", got)
	}
}
