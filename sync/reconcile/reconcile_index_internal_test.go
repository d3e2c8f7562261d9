package reconcile

import (
	"testing"
	"unsafe"

	"erpsync/mapping"
	"erpsync/sync/crm"
)

// TestIndexEntrySizes: reconcile keeps an export entry and a CRM entry
// for each customer (issue 25 §5: ≤ 500 MiB at four million): 32 and 24
// bytes, 40 and 32 before.
func TestIndexEntrySizes(t *testing.T) {
	if size := unsafe.Sizeof(erpEntry{}); size > 32 {
		t.Errorf("erpEntry is %d bytes, want at most 32", size)
	}
	if size := unsafe.Sizeof(crmEntry{}); size > 24 {
		t.Errorf("crmEntry is %d bytes, want at most 24", size)
	}
}

// TestSameAtAGlance_Unambiguous: the hash of the compared fields is taken
// over an unambiguous encoding, so values that hold the separator of
// another encoding (NUL, a field's name) never agree at a glance with
// other values: with names and values written NUL-terminated, the export's
// billingAddress "a\x00billingCity\x00b" and billingCity "c" hashed as
// the CRM's "a" and "b\x00billingCity\x00c".
func TestSameAtAGlance_Unambiguous(t *testing.T) {
	x := newERPIndex()
	c := mapping.NewCustomer("R1", 2, map[string]string{"billingAddress": "a\x00billingCity\x00b", "billingCity": "c"}, "h")
	x.add(c)
	s := newCRMSide(x, func(string) (string, bool) { return "", false })
	s.dir = t.TempDir()
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Error(err)
		}
	})
	addr, city := "a", "b\x00billingCity\x00c"
	e := s.entry(&crm.Customer{ID: 1, Reference: "R1", BillingAddress: &addr, BillingCity: &city})
	if s.err != nil {
		t.Fatal(s.err)
	}
	if e.match() {
		t.Error("different values agree at a glance")
	}
	addr, city = "a\x00billingCity\x00b", "c"
	if e := s.entry(&crm.Customer{ID: 1, Reference: "R1", BillingAddress: &addr, BillingCity: &city}); !e.match() {
		t.Error("the same values do not agree at a glance")
	}
}
