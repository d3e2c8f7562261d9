package crm

import (
	"bytes"
	"maps"
	"mime/multipart"
	"net/url"
	"slices"

	"erpsync/mapping/customer"
)

// Form is the body of a create, update or upsert: the parameters of the
// reference's tables as text, and an optional image. It is sent as
// application/x-www-form-urlencoded, or multipart/form-data with an image.
type Form struct {
	// Values are the form's parameters; nil in a CustomerForm until
	// Fields or Set makes them: read a form through Fields.
	Values url.Values
	Image  *Image

	// sorted are Values' keys in order, as UpsertForm made them; encode
	// takes them while Values holds exactly these keys.
	sorted []string
	// from is the customer of a CustomerForm: while Values is nil,
	// encode reads its fields (sent) in their order.
	from *customer.Customer
}

// Image is the imageFile part of a multipart form.
type Image = customer.Image

// NewForm returns an empty form.
func NewForm() *Form { return &Form{Values: url.Values{}} }

// Set sets a parameter, replacing any value it had.
func (f *Form) Set(key, value string) *Form {
	f.Fields()
	if f.Values == nil {
		f.Values = url.Values{}
	}
	f.Values.Set(key, value)
	return f
}

// UpsertForm returns the upsert form of a customer: its mapped fields in
// their canonical text, which is the API's, but the reference (it is in
// the upsert's path) and imageFile (the image goes as a file). The map is
// made at its size and its values share one array: an import makes a
// form a row (Values.Set one by one: 0.8 GB allocated in a 200k import).
func UpsertForm(c *customer.Customer) *Form {
	n := 0
	for k := range c.All() {
		if sent(k) {
			n++
		}
	}
	f := &Form{Values: make(url.Values, n), Image: c.Image, sorted: make([]string, 0, n)}
	vals := make([]string, 0, n)
	for k, v := range c.All() { // in the order of the keys
		if sent(k) {
			vals = append(vals, v)
			f.Values[k] = vals[len(vals)-1 : len(vals) : len(vals)] // an Add copies it away
			f.sorted = append(f.sorted, k)
		}
	}
	return f
}

// sent says whether a field of the customer goes in its upsert form: the
// reference is in the upsert's path, the image goes as a file.
func sent(k string) bool { return k != "reference" && k != "imageFile" }

// CustomerForm is UpsertForm whose Values are made only when asked for
// (Fields, Set): the body is encoded from the customer's fields, with no
// map made a row (an import sends a form a row and reads none: the map
// was 2% of its CPU). Read its values through Fields, not Values; Fields
// makes them in place, so one goroutine at a time uses a CustomerForm.
func CustomerForm(c *customer.Customer) *Form { return &Form{Image: c.Image, from: c} }

// Fields returns the form's values, made now from the customer of a
// CustomerForm.
func (f *Form) Fields() url.Values {
	if f.from != nil { // a form of UpsertForm, shared by goroutines, is only read
		if f.Values == nil {
			made := UpsertForm(f.from)
			f.Values, f.sorted = made.Values, made.sorted
		}
		f.from = nil
	}
	return f.Values
}

// PaymentTypesJSON encodes payment type ids as the API wants them:
// [{"id":7},{"id":8}], ascending, each once.
func PaymentTypesJSON(ids []int64) string { return customer.PaymentTypes(slices.Clone(ids)) }

// encode returns the body and its content type. The body is bytes so that a
// retry can send it again.
func (f *Form) encode() ([]byte, string, error) {
	if f == nil {
		return nil, "", nil
	}
	if f.Image == nil && f.from != nil && f.Values == nil {
		return encodeFields(f.from), "application/x-www-form-urlencoded", nil
	}
	f.Fields()
	if f.Image == nil {
		return encodeValues(f.Values, f.keys()), "application/x-www-form-urlencoded", nil
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, key := range f.keys() {
		for _, v := range f.Values[key] {
			if err := w.WriteField(key, v); err != nil {
				return nil, "", err
			}
		}
	}
	part, err := w.CreateFormFile("imageFile", f.Image.Filename)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(f.Image.Content); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// keys returns the form's keys in order: as UpsertForm made them while
// Values holds exactly those, else sorted anew. Sorting 25 keys out of
// a map took more than the rest of the encoding (3-4 µs a form).
func (f *Form) keys() []string {
	if len(f.sorted) == len(f.Values) && !slices.ContainsFunc(f.sorted, func(k string) bool { return f.Values[k] == nil }) {
		return f.sorted
	}
	return slices.Sorted(maps.Keys(f.Values))
}

// encodeValues is url.Values.Encode, the keys given in order, into one
// buffer sized beforehand (6% of an import's CPU was Encode).
func encodeValues(v url.Values, keys []string) []byte {
	size := 0
	for _, k := range keys {
		for _, s := range v[k] {
			size += len(k) + len(s) + 2
		}
	}
	b := make([]byte, 0, size+size/4)
	for _, k := range keys {
		for _, s := range v[k] {
			b = appendPair(b, k, s)
		}
	}
	return b
}

// appendPair appends k=v, escaped, after an & when b holds a pair.
func appendPair(b []byte, k, v string) []byte {
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = appendQueryEscape(b, k)
	b = append(b, '=')
	return appendQueryEscape(b, v)
}

// encodeFields is encodeValues of a customer's fields that are sent, in
// their order, with no map made.
func encodeFields(c *customer.Customer) []byte {
	size := 0
	for k, v := range c.All() {
		if sent(k) {
			size += len(k) + len(v) + 2
		}
	}
	b := make([]byte, 0, size+size/4)
	for k, v := range c.All() {
		if sent(k) {
			b = appendPair(b, k, v)
		}
	}
	return b
}

// appendQueryEscape appends s escaped as url.QueryEscape does: letters,
// digits and -_.~ as they are, a space as +, any other byte as %XX. Runs
// of bytes kept as they are are copied at once.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && queryKeeps[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if j == len(s) {
			break
		}
		if c := s[j]; c == ' ' {
			b = append(b, '+')
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
		i = j + 1
	}
	return b
}

// queryKeeps says which bytes a query keeps unescaped.
var queryKeeps = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()
