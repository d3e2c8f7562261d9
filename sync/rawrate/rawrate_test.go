package rawrate_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/rawrate"
)

// forms reads the forms of the first n customers of a generated export.
func forms(t *testing.T, n int) rawrate.Forms {
	t.Helper()
	day1, _, err := genexport.WriteFiles(t.TempDir(), genexport.Options{Rows: 60, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := rawrate.Read(context.Background(), m, day1, n)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// sim starts crmsim on loopback, accepting token, and a client of it
// sending sent.
func sim(t *testing.T, token, sent string) (*crmsim.Store, *crm.Client) {
	t.Helper()
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(crmsim.New(store, crmsim.Options{Token: token}))
	t.Cleanup(ts.Close)
	c, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Token: sent, Concurrency: 4, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return store, c
}

// Guarantee: Send sends exactly total upserts, round after round of the
// forms under references of their own, each creating a customer that
// holds what its form says; sub-customers go without their parent.
func TestSend_CreatesTotalCustomers(t *testing.T) {
	fs := forms(t, 10)
	if len(fs.Forms) != 10 || len(fs.Refs) != 10 {
		t.Fatalf("read %d forms, %d references; want 10", len(fs.Forms), len(fs.Refs))
	}
	store, c := sim(t, "tok", "tok")
	rate, err := rawrate.Send(context.Background(), c, fs, "R", 25, 4)
	if err != nil {
		t.Fatal(err)
	}
	if rate <= 0 {
		t.Errorf("rate %v, want > 0", rate)
	}
	if got := store.Len(); got != 25 {
		t.Errorf("the CRM holds %d customers, want 25 (rounds of 10, 10 and 5)", got)
	}
	for _, tc := range []struct {
		ref  string
		want bool
	}{{"R0-" + fs.Refs[0], true}, {"R2-" + fs.Refs[4], true}, {"R2-" + fs.Refs[5], false}, {fs.Refs[0], false}} {
		if _, ok := store.ByReference(tc.ref); ok != tc.want {
			t.Errorf("customer %s in the CRM: %v, want %v", tc.ref, ok, tc.want)
		}
	}
	for k, f := range fs.Forms {
		got, _ := store.ByReference("R1-" + fs.Refs[k])
		if got.Name != f.Values.Get("name") || got.IsSubCustomer {
			t.Errorf("R1-%s stored as %q (sub-customer %v), sent %q as no sub-customer", fs.Refs[k], got.Name, got.IsSubCustomer, f.Values.Get("name"))
		}
	}
}

// Guarantee: a refused upsert stops the sending and is returned, naming
// the reference; no rate is given.
func TestSend_RefusedStops(t *testing.T) {
	fs := forms(t, 10)
	store, c := sim(t, "tok", "wrong")
	rate, err := rawrate.Send(context.Background(), c, fs, "R", 1000, 4)
	if err == nil || !strings.Contains(err.Error(), "raw upsert R") || rate != 0 {
		t.Fatalf("Send = %v, %v; want no rate and the refusal", rate, err)
	}
	if store.Len() != 0 {
		t.Errorf("the CRM holds %d customers, want none", store.Len())
	}
}

// Guarantee: an export with no customer is an error, not an empty
// measure.
func TestRead_NoCustomer(t *testing.T) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/empty.csv"
	if err := writeFile(path, strings.Join(genexport.Header, ";")+"\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := rawrate.Read(context.Background(), m, path, 10); err == nil || !strings.Contains(err.Error(), "no customer") {
		t.Fatalf("Read of an export without rows = %v, want 'no customer'", err)
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }
