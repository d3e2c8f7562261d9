// Package seedfile reads crmsim's seed files (`crmsim -seed FILE`; format in
// testdata/crmsim/README.md): whole (LoadSeed), or into a store with the
// customers stored as they are read (LoadStore), so that a seed of millions
// is never held whole.
package seedfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"erpsync/sync/crm/crmsim"
)

// LoadSeed reads a seed file.
func LoadSeed(path string) (crmsim.Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return crmsim.Seed{}, fmt.Errorf("read seed: %w", err)
	}
	var s crmsim.Seed
	if err := json.Unmarshal(data, &s); err != nil {
		return crmsim.Seed{}, fmt.Errorf("parse seed %s: %w", path, err)
	}
	if s.Organization.Name == "" || s.Organization.DefaultCurrency == "" {
		return crmsim.Seed{}, fmt.Errorf("seed %s: organization.name and organization.defaultCurrency are required", path)
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
func LoadStore(path string) (*crmsim.Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	defer f.Close()
	src := bufio.NewReaderSize(f, 1<<20)
	st, streamed, err := streamSeed(json.NewDecoder(src), src)
	if streamed {
		return st, err
	}
	seed, err := LoadSeed(path)
	if err != nil {
		return nil, err
	}
	return crmsim.NewStore(seed)
}

// streamSeed reads a seed's settings, then its customers one by one into
// a store (by an objectReader: dec's unread text, then the rest of src).
// streamed is false when the file is not in that order (no organization
// before the customers, settings after them), not valid JSON, or its
// customers not flat objects of strings: LoadSeed is then the judge.
func streamSeed(dec *json.Decoder, src io.Reader) (st *crmsim.Store, streamed bool, err error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false, nil
	}
	settings := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		key, _ := tok.(string)
		if err != nil || key == "customers" && settings["organization"] == nil {
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
		o := newObjectReader(io.MultiReader(dec.Buffered(), src))
		putErr, readErr := putEach(o, st)
		if readErr != nil || !o.end() { // the text after it: the closing brace alone
			return nil, false, nil
		}
		return st, true, putErr
	}
	return nil, false, nil // no customers: LoadSeed reads the settings
}

// storeOfSettings is an empty store of the seed's settings read so far.
func storeOfSettings(settings map[string]json.RawMessage) (*crmsim.Store, error) {
	data, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	var s crmsim.Seed
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Organization.Name == "" || s.Organization.DefaultCurrency == "" {
		return nil, fmt.Errorf("no organization")
	}
	return crmsim.NewStore(s)
}

// putEach stores the customers of the array that o reads (its opening
// bracket read), one at a time, as NewStore does. After a customer that
// the store refuses (putErr, worded as NewStore words it) the others are
// read, not stored: the file must still be read to its end to be judged.
// readErr is an array that o cannot read.
func putEach(o *objectReader, st *crmsim.Store) (putErr, readErr error) {
	p := map[string]string{}
	for i := 1; ; i++ {
		more, err := o.next(p)
		if err != nil || !more {
			return putErr, err
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
}
