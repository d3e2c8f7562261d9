package crm_test

import (
	"testing"

	"erpsync/mapping/customer"
	"erpsync/sync/crm"
)

// The upsert form holds every mapped field, cleared ones too (an empty
// parameter clears the CRM's value), but the reference, which is in the
// path, and imageFile, which goes as the image part.
func TestUpsertForm(t *testing.T) {
	c := customer.New("K1", 2, map[string]string{"reference": "K1", "name": "Alpha", "comment": "",
		"paymentTypes": `[{"id":7}]`, "imageFile": "logo.png"}, "h")
	c.Image = &crm.Image{Filename: "logo.png", Content: []byte("\x89PNG")}
	f := crm.UpsertForm(c)
	if f.Values.Get("name") != "Alpha" || !f.Values.Has("comment") || f.Values.Get("paymentTypes") != `[{"id":7}]` {
		t.Errorf("form = %v", f.Values)
	}
	if f.Values.Has("reference") || f.Values.Has("imageFile") || len(f.Values) != 3 {
		t.Errorf("form = %v, want name, comment and paymentTypes only", f.Values)
	}
	if f.Image != c.Image {
		t.Errorf("image = %+v", f.Image)
	}
}
