package crmsim_test

import (
	"testing"

	"erpsync/sync/crm/crmsim"
)

// TestQuirks_AnswerShapes: -parent-shape id answers parentCustomer as the
// parent's bare id, and -due-type-names answers the due types under the
// names given, in a show and in a list alike. Off, the answers are as
// before: the link object and crmsim's own names.
func TestQuirks_AnswerShapes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		quirks     crmsim.Quirks
		wantParent any
		wantDue    string
	}{
		{"off", crmsim.Quirks{}, map[string]any{"id": 2.0, "reference": "PARENT", "href": "/api/v1.0/customers/2"}, "daysAfterEndOfInvoiceMonth"},
		{"on", crmsim.Quirks{ParentShape: "id", DueTypeNames: []string{"afterInvoiceDate", "endOfMonth"}}, 2.0, "endOfMonth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture(t, crmsim.Options{Quirks: tc.quirks})
			s.must(t, 200, post(api+"/reference/CHILD", "dueDateConfigType", "2", "dueDateConfigNumber", "30"))
			show := s.must(t, 200, get(api+"/reference/CHILD")).body
			page := s.must(t, 200, get(api+"?reference=CHILD")).body["data"].([]any)[0].(map[string]any)
			for where, c := range map[string]map[string]any{"show": show, "list": page} {
				if got := c["parentCustomer"]; !equalJSON(got, tc.wantParent) {
					t.Errorf("%s: parentCustomer = %#v, want %#v", where, got, tc.wantParent)
				}
				if got := c["dueDateConfigType"]; got != tc.wantDue {
					t.Errorf("%s: dueDateConfigType = %v, want %s", where, got, tc.wantDue)
				}
			}
		})
	}
}

func equalJSON(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok != bok {
		return false
	}
	if !aok {
		return a == b
	}
	if len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		if bm[k] != v {
			return false
		}
	}
	return true
}

// TestQuirks_ReferencesCI: with -references ci, references equal ignoring
// case, accents and trailing spaces name one customer (the first
// spelling stays); by default they are two.
func TestQuirks_ReferencesCI(t *testing.T) {
	for _, tc := range []struct {
		refs string
		want int // customers added to the fixture's 3
	}{{"exact", 4}, {"ci", 2}} {
		t.Run(tc.refs, func(t *testing.T) {
			s := fixture(t, crmsim.Options{Quirks: crmsim.Quirks{References: tc.refs}})
			s.must(t, 201, post(api+"/reference/K00000300", "name", "Upper"))
			status := 201 // a second customer
			if tc.refs == "ci" {
				status = 200 // the first, updated
			}
			a := s.must(t, status, post(api+"/reference/k00000300%20", "name", "Lower"))
			s.must(t, 201, post(api+"/reference/Kâ-1", "name", "Accent"))
			s.must(t, status, post(api+"/reference/KA-1", "name", "No accent"))
			if n := s.store.Len(); n != tc.want+3 {
				t.Errorf("%d customers, want %d", n, tc.want+3)
			}
			if tc.refs == "ci" {
				if got := a.str("reference"); got != "K00000300" {
					t.Errorf("the upsert of k00000300 answered reference %q, want the first spelling", got)
				}
				if got := s.must(t, 200, get(api+"/reference/k00000300")).str("name"); got != "Lower" {
					t.Errorf("show k00000300: name %q", got)
				}
				s.must(t, 200, del(api+"/reference/ka-1%20"))
				if got := s.must(t, 200, get(api+"?reference=k0000030*")).paging()["total"]; got != 1.0 {
					t.Errorf("list reference=k0000030*: total %v, want 1", got)
				}
			}
		})
	}
}

// TestQuirks_ParentDigits: with -parent-digits id, a digits-only
// parentCustomer of an upsert is the customer of that id; by default, the
// customer of that reference.
func TestQuirks_ParentDigits(t *testing.T) {
	for _, tc := range []struct {
		digits, wantParent string
	}{{"reference", "3"}, {"id", "CHILD"}} {
		t.Run(tc.digits, func(t *testing.T) {
			s := fixture(t, crmsim.Options{Quirks: crmsim.Quirks{ParentDigits: tc.digits}})
			s.must(t, 201, post(api+"/reference/3", "name", "Named three")) // id 4
			a := s.must(t, 201, post(api+"/reference/SUB", "name", "Sub", "parentCustomer", "3", "isSubCustomer", "true"))
			p, _ := a.body["parentCustomer"].(map[string]any)
			if p["reference"] != tc.wantParent {
				t.Errorf("parent = %v, want %s", a.body["parentCustomer"], tc.wantParent)
			}
		})
	}
}
