package seedfile_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/seedfile"
)

// TestLoadStore_SameAsLoadSeed loads seeds with LoadStore and with
// LoadSeed then NewStore: the same customers, whatever the order of the
// file's keys (customers last are streamed; any other order is read
// whole).
func TestLoadStore_SameAsLoadSeed(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../../../testdata/crmsim/example-seed.json")
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(example, &keys); err != nil {
		t.Fatal(err)
	}
	customersFirst := `{"customers":` + string(keys["customers"])
	settingsAfter := `{"organization":` + string(keys["organization"]) + `,"customers":` + string(keys["customers"])
	settings := `"organization":` + string(keys["organization"])
	for k, v := range keys {
		if k != "customers" {
			customersFirst += `,"` + k + `":` + string(v)
		}
		if k != "customers" && k != "organization" {
			settings += `,"` + k + `":` + string(v)
		}
		if k != "customers" && k != "organization" {
			settingsAfter += `,"` + k + `":` + string(v)
		}
	}
	for name, text := range map[string]string{
		"customers last":             string(example),
		"customers first":            customersFirst + "}",
		"settings after customers":   settingsAfter + "}",
		"no customers":               `{"organization":` + string(keys["organization"]) + `}`,
		"customers of an empty seed": `{"organization":` + string(keys["organization"]) + `,"customers":[]}`,
		"customers null, then given": `{` + settings + `,"customers":null,"customers":` + string(keys["customers"]) + `}`,
		"customers given, then null": `{` + settings + `,"customers":` + string(keys["customers"]) + `,"customers":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.json")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			seed, err := seedfile.LoadSeed(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := crmsim.NewStore(seed)
			if err != nil {
				t.Fatal(err)
			}
			got, err := seedfile.LoadStore(path)
			if err != nil {
				t.Fatal(err)
			}
			sameStores(t, seed, got, want)
		})
	}
}

// TestLoadStore_Errors: a seed that LoadSeed or NewStore refuses is
// refused by LoadStore with the same words, streamed or not.
func TestLoadStore_Errors(t *testing.T) {
	t.Parallel()
	org := `"organization":{"name":"entity1","defaultCurrency":"EUR"},"currencies":[{"code":"EUR","configured":true}]`
	refused := `[{"reference":"A","name":"A"},{"reference":"B","name":"B","currency":"XXX"},{"reference":"C","name":"C"}]`
	for name, text := range map[string]string{
		"a refused customer, streamed":    `{` + org + `,"customers":` + refused + `}`,
		"a refused customer, read whole":  `{"customers":` + refused + `,` + org + `}`,
		"broken text after a refused one": `{` + org + `,"customers":` + refused[:len(refused)-1] + `,{"reference":`,
		"text after the seed":             `{` + org + `,"customers":[]} x`,
		"no organization":                 `{"customers":[{"reference":"A","name":"A"}]}`,
		"not an object":                   `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.json")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			seed, want := seedfile.LoadSeed(path)
			if want == nil {
				_, want = crmsim.NewStore(seed)
			}
			_, got := seedfile.LoadStore(path)
			if want == nil || got == nil || got.Error() != want.Error() {
				t.Errorf("LoadStore: %v\nwant %v", got, want)
			}
		})
	}
}

// TestLoadStore_Texts: customers whose text JSON writes in every way it
// may (escapes, \u escapes and surrogate pairs, bytes that are not UTF-8,
// white space, a key given twice, values that are not text) are stored
// by LoadStore as LoadSeed and NewStore store them.
func TestLoadStore_Texts(t *testing.T) {
	t.Parallel()
	org := `"organization":{"name":"entity1","defaultCurrency":"EUR"},"currencies":[{"code":"EUR","configured":true}]`
	for name, customers := range map[string]string{
		"escapes":          `[{"reference":"A","name":"q\"b\\s\/n\nt\tr\rb\bf\f"}]`,
		"unicode escapes":  `[{"reference":"A","name":"\u00e9t\u00E9 \ud83d\ude00 \\u0041 \u0041"}, {"reference":"B","name":"lone \udc00"}]`,
		"not UTF-8":        "[{\"reference\":\"A\",\"name\":\"caf\xe9 \xff\"}, {\"reference\":\"B\",\"name\":\"été\"}]",
		"white space":      "[ \n\t{ \"reference\" : \"A\" ,\r\n \"name\" : \"A\" } ,\n{\"reference\":\"B\",\"name\":\"B\"}\n]",
		"a key twice":      `[{"reference":"A","name":"first","name":"second"}]`,
		"escaped key":      `[{"reference":"A","n\u0061me":"by an escaped key"}]`,
		"a null value":     `[{"reference":"A","name":"A","phone":null}]`,
		"a number":         `[{"reference":"A","name":"A"},{"reference":"B","name":"B","creditLimit":5}]`,
		"empty objects":    `[{"reference":"A","name":"A"},{}]`,
		"payment types":    `[{"reference":"A","name":"A","paymentTypes":"[{\"id\":7},{\"id\":9}]"}]`,
		"no customers yet": `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.json")
			if err := os.WriteFile(path, []byte(`{`+org+`,"customers":`+customers+`}`), 0o644); err != nil {
				t.Fatal(err)
			}
			seed, wantErr := seedfile.LoadSeed(path)
			var want *crmsim.Store
			if wantErr == nil {
				want, wantErr = crmsim.NewStore(seed)
			}
			got, err := seedfile.LoadStore(path)
			if wantErr != nil || err != nil {
				if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
					t.Fatalf("LoadStore: %v\nwant %v", err, wantErr)
				}
				return
			}
			sameStores(t, seed, got, want)
		})
	}
}

// sameStores fails t unless got (LoadStore's) holds the customers of
// seed as want (NewStore's) does, their times aside.
func sameStores(t *testing.T, seed crmsim.Seed, got, want *crmsim.Store) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("LoadStore holds %d customers, LoadSeed and NewStore %d", got.Len(), want.Len())
	}
	for _, p := range seed.Customers {
		g, _ := got.ByReference(p["reference"])
		w, _ := want.ByReference(p["reference"])
		g.DateCreated, g.LastUpdated, w.DateCreated, w.LastUpdated = crm.Time{}, crm.Time{}, crm.Time{}, crm.Time{}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got %s\nwant %s", p["reference"], gj, wj)
		}
	}
}

// TestLoadStore_Allocations: reading a seed's customers costs few
// allocations beyond the store's own (issue 25 §5: crmsim seeded with
// millions of customers for reconcile's benchmark, where encoding/json's
// map of each customer cost more than storing it, and the collections its
// garbage made). The store's own are counted by storing the same customers
// with Put.
func TestLoadStore_Allocations(t *testing.T) {
	const n = 2000
	org := `"organization":{"name":"entity1","defaultCurrency":"EUR"},"currencies":[{"code":"EUR","configured":true}],` +
		`"paymentTypes":[{"id":7,"reference":"cash","name":"cash"},{"id":9,"reference":"transfer","name":"transfer"}]`
	var customers []map[string]string
	for i := range n {
		customers = append(customers, map[string]string{
			"reference": fmt.Sprintf("K%08d", i), "name": fmt.Sprintf("Golden Gems %d", i), "billingCity": "Paris",
			"billingAddress": fmt.Sprintf("%d rue Partners", i), "billingCountry": "ES", "billingPostalCode": "15434",
			"creditLimit": "29913.04", "currency": "EUR", "dueDateConfigNumber": "15", "dueDateConfigType": "1",
			"email": fmt.Sprintf("contact%d@example.com", i), "isSubCustomer": "false", "onHold": "true",
			"paymentTypes": `[{"id":7},{"id":9}]`, "phone": "+33 1 88298206", "taxNumber": "FR79037315880"})
	}
	data, _ := json.Marshal(customers)
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(`{`+org+`,"customers":`+string(data)+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	seed, err := seedfile.LoadSeed(path)
	if err != nil {
		t.Fatal(err)
	}
	seed.Customers = nil
	stored := mallocs(t, func() error {
		st, err := crmsim.NewStore(seed)
		for _, c := range customers {
			if err == nil {
				p := maps.Clone(c)
				delete(p, "reference")
				_, err = st.Put(c["reference"], p)
			}
		}
		return err
	}) - n // the maps cloned
	read := mallocs(t, func() error { _, err := seedfile.LoadStore(path); return err })
	if per := float64(read-stored) / n; per > 3 {
		t.Errorf("LoadStore made %.1f allocations a customer beyond the store's own (%d in all, the store's %d); want at most 3",
			per, read, stored)
	}
}

// mallocs counts the allocations that f makes.
func mallocs(t *testing.T, f func() error) int64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := f(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return int64(after.Mallocs - before.Mallocs)
}
