package rawrate_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	gosync "sync"
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
// holds what its form says; a sub-customer is linked to its parent of the
// first round, as an import links it.
func TestSend_CreatesTotalCustomers(t *testing.T) {
	fs := forms(t, 10)
	if len(fs.Forms) != 10 || len(fs.Refs) != 10 {
		t.Fatalf("read %d forms, %d references; want 10", len(fs.Forms), len(fs.Refs))
	}
	if fs.Parent[0] != -1 || fs.Parent[1] != 0 || fs.Parent[3] != 0 || fs.Parent[4] != -1 {
		t.Fatalf("parents %v; want genexport's: 1-3 sub-customers of 0, 4 none", fs.Parent)
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
		if got.Name != f.Values.Get("name") {
			t.Errorf("R1-%s stored as %q, sent %q", fs.Refs[k], got.Name, f.Values.Get("name"))
		}
		parent := ""
		if got.ParentCustomer != nil {
			parent = got.ParentCustomer.Reference
		}
		if want := fs.Parent[k] >= 0; got.IsSubCustomer != want || want && parent != "R0-"+fs.Refs[fs.Parent[k]] {
			t.Errorf("R1-%s stored as sub-customer %v of %q; want %v, of R0-%s", fs.Refs[k], got.IsSubCustomer, parent, want, fs.Refs[max(fs.Parent[k], 0)])
		}
	}
}

// ordered is the real client, noting when each upsert starts and ends.
type ordered struct {
	rawrate.CRM
	mu     gosync.Mutex
	events []string // "start REF" and "end REF"
}

func (o *ordered) Upsert(ctx context.Context, ref string, f *crm.Form) (*crm.Customer, error) {
	o.note("start " + ref)
	defer o.note("end " + ref)
	return o.CRM.Upsert(ctx, ref, f)
}

func (o *ordered) note(e string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

// Guarantee: every round's parents are answered before any other upsert
// starts (an import's waves), so that no sub-customer names a parent the
// CRM does not hold yet, whatever the concurrency.
func TestSend_ParentsFirst(t *testing.T) {
	fs := forms(t, 10)
	_, c := sim(t, "tok", "tok")
	o := &ordered{CRM: c}
	if _, err := rawrate.Send(context.Background(), o, fs, "R", 30, 8); err != nil {
		t.Fatal(err)
	}
	parents := map[string]bool{}
	for round := range 3 {
		parents["R"+strconv.Itoa(round)+"-"+fs.Refs[0]] = true
	}
	ended, other := 0, false
	for _, e := range o.events {
		kind, ref, _ := strings.Cut(e, " ")
		switch {
		case parents[ref] && kind == "end":
			ended++
		case parents[ref] && other:
			t.Fatalf("parent %s started after another upsert: %v", ref, o.events)
		case !parents[ref] && kind == "start":
			other = true
			if ended != len(parents) {
				t.Fatalf("%s started with %d of %d parents answered: %v", ref, ended, len(parents), o.events)
			}
		}
	}
	if len(o.events) != 60 {
		t.Errorf("%d events, want 60 (30 upserts)", len(o.events))
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
