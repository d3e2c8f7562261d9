package seedfile_test

import (
	"encoding/json"
	"os"
	"path/filepath"
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
