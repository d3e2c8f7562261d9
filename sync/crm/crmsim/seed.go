package crmsim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Seed is what the simulator starts with: the organization's settings and
// reference data, and optionally customers. `crmsim -seed FILE` reads it as
// JSON; testdata/crmsim/README.md documents the format.
type Seed struct {
	Organization          Organization   `json:"organization"`
	Currencies            []Currency     `json:"currencies"`
	CustomerCategories    []Category     `json:"customerCategories"`
	CustomerSegmentations []Segmentation `json:"customerSegmentations"`
	Users                 []User         `json:"users"`
	PaymentTypes          []PaymentType  `json:"paymentTypes"`
	Regions               []Region       `json:"regions"`
	// Customers are loaded as upserts by reference: each is the reference
	// and the upsert's parameters as text (e.g. "categoryId": "jewelry").
	Customers []map[string]string `json:"customers"`
}

// Organization holds the organization-wide settings.
type Organization struct {
	Name                  string `json:"name"`                  // e.g. entity1
	DefaultCurrency       string `json:"defaultCurrency"`       // used when a customer names none
	GeographicalLocations bool   `json:"geographicalLocations"` // when on, customers carry a region
}

// Currency is an ISO code; only configured ones (with an exchange rate)
// may be given to a customer.
type Currency struct {
	Code       string `json:"code"`
	Configured bool   `json:"configured"`
}

// Category is a customer category; the one with Root set is the default.
type Category struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
	Root      bool   `json:"root,omitempty"`
}

// Segmentation is a customer segmentation.
type Segmentation struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
}

// User is a user who may be named as a customer's creator.
type User struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
}

// PaymentType is a payment type.
type PaymentType struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
}

// Region is a geographical region.
type Region struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// DefaultSeed is the built-in seed of ARCHITECTURE.md: the reference's
// examples and a few more, no customers.
func DefaultSeed() Seed {
	return Seed{
		Organization: Organization{Name: "entity1", DefaultCurrency: "EUR", GeographicalLocations: true},
		Currencies:   []Currency{{"EUR", true}, {"USD", true}, {"GBP", false}},
		CustomerCategories: []Category{
			{ID: 1, Reference: "root", Name: "Root", Root: true},
			{ID: 2, Reference: "jewelry", Name: "Jewelry and accessories"},
			{ID: 3, Reference: "retail", Name: "Retail"},
			{ID: 4, Reference: "wholesale", Name: "Wholesale"},
		},
		CustomerSegmentations: []Segmentation{
			{ID: 1, Reference: "seg_a", Name: "Segmentation A"},
			{ID: 2, Reference: "seg_b", Name: "Segmentation B"},
		},
		Users: []User{{ID: 2, Reference: "emp-002"}, {ID: 3, Reference: "emp-003"}},
		PaymentTypes: []PaymentType{
			{ID: 7, Reference: "cash", Name: "cash"},
			{ID: 8, Reference: "cheque", Name: "cheque"},
			{ID: 9, Reference: "transfer", Name: "transfer"},
		},
		Regions: []Region{{ID: 2, Name: "California"}, {ID: 3, Name: "New York"}},
	}
}

// LoadSeed reads a seed file.
func LoadSeed(path string) (Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("read seed: %w", err)
	}
	var s Seed
	if err := json.Unmarshal(data, &s); err != nil {
		return Seed{}, fmt.Errorf("parse seed %s: %w", path, err)
	}
	if s.Organization.Name == "" || s.Organization.DefaultCurrency == "" {
		return Seed{}, fmt.Errorf("seed %s: organization.name and organization.defaultCurrency are required", path)
	}
	return s, nil
}

// LoadStore reads a seed file into a new store. When the file gives its
// customers last, after the organization (as a seed written from a Seed
// does), they are read and stored one at a time as they come: a seed of
// millions of customers is never held whole, neither its text nor every
// customer's values (what LoadSeed then NewStore hold at once). Any other
// order, and a file that is not valid JSON, is read as LoadSeed reads it,
// with the same result.
func LoadStore(path string) (*Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	defer f.Close()
	st, streamed, err := streamSeed(json.NewDecoder(bufio.NewReaderSize(f, 1<<20)), path)
	if streamed {
		return st, err
	}
	seed, err := LoadSeed(path)
	if err != nil {
		return nil, err
	}
	return NewStore(seed)
}

// streamSeed reads a seed's settings, then its customers one by one into
// a store. streamed is false when the file is not in that order (no
// organization before the customers, settings after them) or not valid
// JSON: LoadSeed is then the judge.
func streamSeed(dec *json.Decoder, path string) (st *Store, streamed bool, err error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false, nil
	}
	settings := map[string]json.RawMessage{}
	var putErr error
	for dec.More() {
		tok, err := dec.Token()
		key, _ := tok.(string)
		if err != nil || st != nil || key == "customers" && settings["organization"] == nil {
			return nil, false, nil
		}
		if key != "customers" {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, false, nil
			}
			settings[key] = raw
			continue
		}
		if tok, err := dec.Token(); err != nil || tok == nil {
			if err != nil {
				return nil, false, nil
			}
			continue // "customers": null, as json.Marshal writes a Seed without any
		} else if tok != json.Delim('[') {
			return nil, false, nil
		}
		if st, err = storeOfSettings(settings); err != nil {
			return nil, false, nil
		}
		var readErr error
		if putErr, readErr = putEach(dec, st); readErr != nil {
			return nil, false, nil
		}
	}
	if _, err := dec.Token(); err != nil || st == nil {
		return nil, false, nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, nil // text after the seed
	}
	return st, true, putErr
}

// storeOfSettings is an empty store of the seed's settings read so far.
func storeOfSettings(settings map[string]json.RawMessage) (*Store, error) {
	data, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	var s Seed
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Organization.Name == "" || s.Organization.DefaultCurrency == "" {
		return nil, fmt.Errorf("no organization")
	}
	return NewStore(s)
}

// putEach stores the customers of the array that dec is in (its opening
// bracket read), one at a time, as NewStore does. After a customer that the store refuses
// (putErr, worded as NewStore words it) the others are read, not stored:
// the file must still be read to its end to be judged. readErr is an
// array that cannot be read.
func putEach(dec *json.Decoder, st *Store) (putErr, readErr error) {
	for i := 1; dec.More(); i++ {
		var p map[string]string
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		if putErr != nil {
			continue
		}
		ref := p["reference"]
		delete(p, "reference")
		if _, err := st.Put(ref, p); err != nil {
			putErr = fmt.Errorf("seed customer %d: %w", i, err)
		}
	}
	_, err := dec.Token() // the closing bracket
	return putErr, err
}
