package crm

import (
	"maps"
	"net/url"
	"slices"
	"testing"

	"erpsync/mapping/customer"
)

// encodeValues writes what url.Values.Encode writes, for any keys and
// values (bytes of every kind, several values, empty ones).
func TestEncodeValues(t *testing.T) {
	for _, v := range []url.Values{
		{},
		{"name": {"Alpha & Co, 5% off"}, "comment": {""}, "paymentTypes": {`[{"id":7}]`}},
		{"a b": {"x=y?z", "2nd"}, "é": {"Zürich\t\n\x00\xff"}, "~-_.": {"+/;:@$"}},
	} {
		if got, want := string(encodeValues(v, slices.Sorted(maps.Keys(v)))), v.Encode(); got != want {
			t.Errorf("encodeValues(%v) = %q, want %q", v, got, want)
		}
	}
}

func FuzzEncodeValues(f *testing.F) {
	f.Add("name", "Alpha & Co", "email", "a@example.com")
	f.Add("", "", "x y", "\xff\x00%")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		v := url.Values{}
		v.Add(k1, v1)
		v.Add(k2, v2)
		if got, want := string(encodeValues(v, slices.Sorted(maps.Keys(v)))), v.Encode(); got != want {
			t.Errorf("encodeValues(%v) = %q, want %q", v, got, want)
		}
	})
}

// An upsert form's values share one array: adding to one never changes
// another.
func TestUpsertForm_ValuesApart(t *testing.T) {
	c := customer.New("K1", 2, map[string]string{"reference": "K1", "a": "1", "b": "2", "c": "3"}, "h")
	f := UpsertForm(c)
	f.Values.Add("a", "more")
	f.Values.Add("b", "more")
	if got := f.Values.Encode(); got != "a=1&a=more&b=2&b=more&c=3" {
		t.Errorf("form = %s", got)
	}
}

// A form changed after UpsertForm is encoded in the order of its keys as
// they are now: a key taken away and another set in its place included.
func TestForm_EncodeChanged(t *testing.T) {
	c := customer.New("K1", 2, map[string]string{"reference": "K1", "b": "1", "d": "2", "f": "3"}, "h")
	for _, change := range []func(url.Values){
		func(url.Values) {},
		func(v url.Values) { v.Del("d") },
		func(v url.Values) { v.Del("f"); v.Set("a", "0") },
		func(v url.Values) { v.Set("e", "x y") },
		func(v url.Values) { v.Add("b", "again") },
	} {
		f := UpsertForm(c)
		change(f.Values)
		body, _, err := f.encode()
		if err != nil || string(body) != f.Values.Encode() {
			t.Errorf("encode = %q, %v; want %q", body, err, f.Values.Encode())
		}
	}
}

// A CustomerForm sends what UpsertForm sends (the reference and the
// image's name left out, every byte escaped alike), with no map made
// until its values are asked for; Set first makes them, so that a value
// set never drops the customer's.
func TestCustomerForm_AsUpsertForm(t *testing.T) {
	for _, fields := range []map[string]string{
		{"reference": "K1"},
		{"reference": "K1", "name": "Alpha & Co, 5% off", "comment": "", "imageFile": "logo.png"},
		{"reference": "K2", "a b": "x=y?z", "é": "Zürich\t\n\x00\xff", "~-_.": "+/;:@$", "parentCustomer": "K1"},
	} {
		c := customer.New(fields["reference"], 2, fields, "h")
		want, wantType, err := UpsertForm(c).encode()
		if err != nil {
			t.Fatal(err)
		}
		lazy := CustomerForm(c)
		if lazy.Values != nil {
			t.Errorf("CustomerForm made its values at once: %v", lazy.Values)
		}
		got, gotType, err := lazy.encode()
		if err != nil || string(got) != string(want) || gotType != wantType {
			t.Errorf("CustomerForm of %v encodes %q (%s, %v), UpsertForm %q (%s)", fields, got, gotType, err, want, wantType)
		}
		if got, want := CustomerForm(c).Fields(), UpsertForm(c).Values; !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("Fields = %v, UpsertForm's values %v", got, want)
		}
		set := CustomerForm(c).Set("isActive", "true")
		wantSet := UpsertForm(c).Set("isActive", "true")
		if got, want := set.Values.Encode(), wantSet.Values.Encode(); got != want {
			t.Errorf("CustomerForm then Set = %s, want %s", got, want)
		}
	}
}

// Values set on a CustomerForm by hand are what it sends: the customer's
// fields are only what it holds while Values is nil.
func TestCustomerForm_ValuesSetWin(t *testing.T) {
	c := customer.New("K1", 2, map[string]string{"reference": "K1", "name": "A"}, "h")
	f := CustomerForm(c)
	f.Values = url.Values{"x": {"1"}}
	if got, _, err := f.encode(); err != nil || string(got) != "x=1" {
		t.Errorf("encode = %q, %v; want x=1", got, err)
	}
	if got := f.Fields().Encode(); got != "x=1" {
		t.Errorf("Fields = %s, want x=1", got)
	}
}
