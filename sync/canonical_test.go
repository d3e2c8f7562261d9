package sync_test

import (
	"math"
	"testing"

	"erpsync/sync"
	"erpsync/sync/crm"
)

// The CRM's numbers read as the export's do: -0 is 0 on both sides (mapping
// writes "-0,00" as "0").
func TestCRMValues_Numbers(t *testing.T) {
	negZero, limit := math.Copysign(0, -1), 5000.5
	got := sync.CRMValues(&crm.Customer{CreditLimit: &negZero, BillingLat: &limit}, []string{"creditLimit", "billingLat", "longitude"}, nil)
	want := map[string]string{"creditLimit": "0", "billingLat": "5000.5", "longitude": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
