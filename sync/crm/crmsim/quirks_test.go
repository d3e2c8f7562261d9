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
