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
	Values url.Values
	Image  *Image
}

// Image is the imageFile part of a multipart form.
type Image = customer.Image

// NewForm returns an empty form.
func NewForm() *Form { return &Form{Values: url.Values{}} }

// Set sets a parameter, replacing any value it had.
func (f *Form) Set(key, value string) *Form {
	if f.Values == nil {
		f.Values = url.Values{}
	}
	f.Values.Set(key, value)
	return f
}

// UpsertForm returns the upsert form of a customer: its mapped fields in
// their canonical text, which is the API's, but the reference (it is in
// the upsert's path) and imageFile (the image goes as a file).
func UpsertForm(c *customer.Customer) *Form {
	f := NewForm()
	for k, v := range c.All() {
		if k == "reference" || k == "imageFile" {
			continue
		}
		f.Values.Set(k, v)
	}
	f.Image = c.Image
	return f
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
	if f.Image == nil {
		return []byte(f.Values.Encode()), "application/x-www-form-urlencoded", nil
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, key := range slices.Sorted(maps.Keys(f.Values)) {
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
