package crmsim

import "testing"

// TestNewStore_DropsSeedCustomers checks that the seed's customers are
// loaded, not kept as text beside the store.
func TestNewStore_DropsSeedCustomers(t *testing.T) {
	seed := DefaultSeed()
	seed.Customers = []map[string]string{{"reference": "A", "name": "A"}}
	st, err := NewStore(seed)
	if err != nil {
		t.Fatal(err)
	}
	if st.Len() != 1 || st.seed.Customers != nil {
		t.Errorf("store of %d customers, seed kept with %d", st.Len(), len(st.seed.Customers))
	}
	if len(seed.Customers) != 1 {
		t.Error("the caller's seed changed")
	}
}
