package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	gosync "sync"

	fastjson "github.com/segmentio/encoding/json"
)

// Answers are read in two steps. The fast one decodes the whole answer
// into the typed structs; it meets every answer shaped as the reference
// shows. When it fails, the answer is read again member by member,
// leniently:
//   - unknown members are ignored;
//   - numbers and booleans given as strings are read ("12.5", "true");
//     strings given as numbers or booleans keep their text;
//   - members that the reference only ever shows as null (nullOnly)
//     accept any JSON type: what cannot be read as our guess is dropped;
//   - a list answer's record that still cannot be read is set aside as a
//     *RecordError (Page.Unreadable) and the others are kept.

// nullOnly are the customer members that the reference only ever shows
// as null: their types are our guesses.
var nullOnly = map[string]bool{
	"address": true, "appliedCashBackOutput": true, "balance": true, "barcode": true,
	"billingAddress": true, "billingLat": true, "billingLng": true, "billingPostalCode": true,
	"city": true, "comment": true, "companyRegistrationNumber": true, "country": true,
	"customerRisk": true, "customerRiskColor": true, "email": true, "fax": true,
	"invoicesPerRoute": true, "isCredit": true, "latitude": true, "longitude": true,
	"maxChequePeriod": true, "maxChequeValue": true, "mobile": true, "onHoldReason": true,
	"parentCustomer": true, "paymentTerm": true, "phone": true, "pocTenus": true,
	"postalCode": true, "reference2": true, "returnDiscount": true, "taxNumber": true,
	"website": true,
}

// decodeBody reads a list answer, setting aside the records it cannot read.
func (p *Page) decodeBody(body []byte) error {
	if err := fastjson.Unmarshal(body, p); err == nil {
		return nil
	}
	*p = Page{}
	var raw struct {
		Paging json.RawMessage   `json:"paging"`
		Data   []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return fmt.Errorf("not a list answer: %w", err)
	}
	if len(raw.Paging) > 0 {
		if err := decodeMembers(raw.Paging, reflect.ValueOf(&p.Paging).Elem(), nil); err != nil {
			return fmt.Errorf("paging: %w", err)
		}
	}
	p.Data = make([]Customer, 0, len(raw.Data))
	for i, r := range raw.Data {
		var c Customer
		if err := decodeCustomer(r, &c); err != nil {
			p.Unreadable = append(p.Unreadable, &RecordError{
				Index: i, ID: c.ID, Reference: c.Reference, LastUpdated: c.LastUpdated.Time, Err: err})
			continue
		}
		p.Data = append(p.Data, c)
	}
	return nil
}

// decodeBody reads a customer answer leniently.
func (c *Customer) decodeBody(body []byte) error {
	if err := fastjson.Unmarshal(body, c); err == nil {
		return nil
	}
	*c = Customer{}
	return decodeCustomer(body, c)
}

// DecodeCustomer reads one customer record as the client does: strictly
// shaped records fast, others leniently. It is what the list and show
// calls use, exported for tests and tools.
func DecodeCustomer(b []byte) (Customer, error) {
	var c Customer
	err := c.decodeBody(b)
	return c, err
}

// decodeCustomer reads one record leniently.
func decodeCustomer(b []byte, c *Customer) error {
	return decodeMembers(b, reflect.ValueOf(c).Elem(), nullOnly)
}

// decodeMembers reads a JSON object into the struct v member by member.
// Members named in lenient that cannot be read are left zero. The errors
// name the members, never their values.
func decodeMembers(b []byte, v reflect.Value, lenient map[string]bool) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return fmt.Errorf("want an object, got %s", jsonKind(b))
	}
	fields := fieldsOf(v.Type())
	var errs []error
	for _, name := range slices.Sorted(mapsKeys(members)) {
		i, ok := fields[name]
		if !ok {
			continue // unknown member
		}
		f := v.Field(i)
		if err := decodeValue(members[name], f); err != nil {
			if lenient[name] {
				f.SetZero()
				continue
			}
			errs = append(errs, fmt.Errorf("member %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func mapsKeys(m map[string]json.RawMessage) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var fieldCache gosync.Map // reflect.Type → map[string]int

// fieldsOf maps a struct's JSON member names to field indexes.
func fieldsOf(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = i
	}
	fieldCache.Store(t, m)
	return m
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// decodeValue reads raw into f: as encoding/json does, then leniently.
func decodeValue(raw json.RawMessage, f reflect.Value) error {
	err := json.Unmarshal(raw, f.Addr().Interface())
	if err == nil {
		return nil
	}
	f.SetZero()
	t := f.Type()
	if t.Kind() == reflect.Pointer {
		if bytes.Equal(raw, []byte("null")) {
			return nil
		}
		p := reflect.New(t.Elem())
		if err := decodeValue(raw, p.Elem()); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return cleanError(err)
	}
	switch t.Kind() {
	case reflect.Struct:
		return decodeMembers(raw, f, nil)
	case reflect.Slice:
		return decodeSlice(raw, f)
	}
	return coerce(raw, f, err)
}

// decodeSlice reads a JSON array item by item.
func decodeSlice(raw json.RawMessage, f reflect.Value) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("want an array, got %s", jsonKind(raw))
	}
	s := reflect.MakeSlice(f.Type(), len(items), len(items))
	for i, item := range items {
		if err := decodeValue(item, s.Index(i)); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	f.Set(s)
	return nil
}

// coerce reads a scalar of another JSON type: numbers and booleans given
// as strings, strings given as numbers or booleans.
func coerce(raw json.RawMessage, f reflect.Value, orig error) error {
	var s string
	quoted := json.Unmarshal(raw, &s) == nil
	text := strings.TrimSpace(s)
	switch k := f.Kind(); {
	case k == reflect.String && !quoted && isScalar(raw):
		f.SetString(string(raw))
		return nil
	case k == reflect.Bool:
		if !quoted {
			text = string(raw) // 0 or 1
		}
		switch strings.ToLower(text) {
		case "true", "1", "yes":
			f.SetBool(true)
			return nil
		case "false", "0", "no", "":
			return nil
		}
	case quoted && isNumberKind(k):
		if text == "" {
			return nil
		}
		return setNumber(f, text)
	}
	return cleanError(orig)
}

func isScalar(raw json.RawMessage) bool {
	return len(raw) > 0 && raw[0] != '{' && raw[0] != '[' && !bytes.Equal(raw, []byte("null"))
}

func isNumberKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// setNumber reads a number given as text into an integer or float field.
func setNumber(f reflect.Value, text string) error {
	x, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return fmt.Errorf("want a number, got a string of %d characters", len(text))
	}
	switch f.Kind() {
	case reflect.Float32, reflect.Float64:
		f.SetFloat(x)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil && !f.OverflowInt(n) {
			f.SetInt(n)
			return nil
		}
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 && !f.OverflowInt(int64(x)) {
			f.SetInt(int64(x))
			return nil
		}
	default:
		if n, err := strconv.ParseUint(text, 10, 64); err == nil && !f.OverflowUint(n) {
			f.SetUint(n)
			return nil
		}
	}
	return fmt.Errorf("want an integer, got a string of %d characters", len(text))
}

// cleanError shortens encoding/json's type errors; they and the errors
// of our own types quote no data.
func cleanError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("want %s, got a JSON %s", te.Type, te.Value)
	}
	return err
}

// jsonKind names the JSON type of raw, for messages that quote no data.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
