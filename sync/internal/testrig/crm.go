package testrig

import (
	"testing"

	"erpsync/sync/crm/crmmem"
	"erpsync/sync/crm/crmsim"
)

// NewFake is crmsim on the built-in seed with opt, called in-process
// through crmmem: the engine's CRM without a listener or HTTP, with the
// server behind it (its Store for hand work, its Stats for the requests
// counted). opt.Now, when set, is the store's clock.
func NewFake(t testing.TB, opt crmsim.Options) (*crmmem.CRM, *crmsim.Server) {
	t.Helper()
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	sim := crmsim.New(store, opt)
	fake, err := crmmem.New(sim)
	if err != nil {
		t.Fatal(err)
	}
	return fake, sim
}
