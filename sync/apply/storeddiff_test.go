package apply_test

import (
	"fmt"
	"strings"
	"testing"

	"erpsync/sync/apply"
	"erpsync/sync/plan"
)

// TestStoredDiffError_Bounded: the text of a stored difference, which
// goes to errors.csv and the failures table, quotes each value short
// (mapping.Excerpt) and lists five differences at most, counting the rest.
func TestStoredDiffError_Bounded(t *testing.T) {
	big := strings.Repeat("v", 100_000)
	e := &apply.StoredDiffError{Status: 200}
	for i := range 8 {
		e.Diffs = append(e.Diffs, plan.Change{Field: fmt.Sprint("field", i), Old: big + "old", New: big + "new"})
	}
	msg := e.Error()
	if len(msg) > 3000 || !strings.Contains(msg, "and 3 more") || !strings.Contains(msg, "field0") {
		t.Errorf("message of %d bytes (%.300q…), want field0 named, under 3000 bytes, and 3 more counted", len(msg), msg)
	}
	one := (&apply.StoredDiffError{Diffs: []plan.Change{{Field: "parentCustomer", Old: "1001", New: "P-1"}}}).Error()
	if want := `the CRM stored "1001" for field parentCustomer, sent "P-1"`; one != want {
		t.Errorf("message %q, want %q", one, want)
	}
}
