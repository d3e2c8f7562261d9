// Package customer is erpsync's canonical customer and the table of the
// CRM fields an export can map. It knows none of CSV, SQL and HTTP:
// mapping builds customers from exports, sync compares them with the CRM,
// and the CRM client encodes them as upsert forms.
package customer

import (
	"iter"
	"maps"
	"slices"
)

// Customer is one export row in canonical form: only the mapped fields,
// each in one canonical text form. Its fields are kept as two slices (the
// names shared by every row of a read): a million rows make no million maps.
type Customer struct {
	Reference string
	Line      int    // physical line of the row's start
	Delete    bool   // flagged by delete_flag: a delete request
	Image     *Image // when imageFile is mapped and set
	// Hash is stable across runs and machines, independent of the column
	// order, and changes with any mapped value, the image's content and
	// the mapping's fingerprint.
	Hash string
	// RowSum is the sum of the export row's cells as read (mapping's
	// rowsum.go) when the row is plain (no parent, no image, no warning);
	// 0 otherwise. The checkpoint keeps it beside Hash.
	RowSum uint64

	keys []string // field names, sorted; shared, never changed
	vals []string // their values
}

// Image is the content of an imageFile field, sent as a file.
type Image struct {
	Filename string
	Content  []byte
}

// New builds a customer from its fields (for tests and tools; a reader
// uses FromSorted).
func New(ref string, line int, fields map[string]string, hash string) *Customer {
	c := &Customer{Reference: ref, Line: line, Hash: hash}
	c.keys = slices.Sorted(maps.Keys(fields))
	for _, k := range c.keys {
		c.vals = append(c.vals, fields[k])
	}
	return c
}

// FromSorted builds a customer whose field names are keys, sorted, and
// values vals (as many). The customer keeps both: keys may be shared by
// every customer of a read and must never change; vals become the
// customer's own.
func FromSorted(ref string, line int, keys, vals []string) *Customer {
	return &Customer{Reference: ref, Line: line, keys: keys, vals: vals}
}

// Field returns a mapped field's canonical text; "" for a field the ERP
// cleared or that is not mapped.
func (c *Customer) Field(name string) string {
	if i, ok := slices.BinarySearch(c.keys, name); ok {
		return c.vals[i]
	}
	return ""
}

// Fields returns the mapped fields, CRM upsert parameter → canonical text
// ("" means the ERP cleared the field), as a new map.
func (c *Customer) Fields() map[string]string {
	m := make(map[string]string, len(c.keys))
	for i, k := range c.keys {
		m[k] = c.vals[i]
	}
	return m
}

// Sorted returns the names of the mapped fields, sorted, and their
// values: the customer's own slices, shared with every caller (and the
// names with the customers of its read), never to be changed.
func (c *Customer) Sorted() (names, vals []string) { return c.keys, c.vals }

// FieldNames returns the names of the mapped fields, sorted.
func (c *Customer) FieldNames() []string { return slices.Clone(c.keys) }

// All yields the mapped fields and their canonical text, by name.
func (c *Customer) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i, k := range c.keys {
			if !yield(k, c.vals[i]) {
				return
			}
		}
	}
}
