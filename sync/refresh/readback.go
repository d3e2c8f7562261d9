package refresh

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"erpsync/mapping/customer"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
)

// CRMValues returns what the CRM holds for the given upsert fields, in the
// canonical text form that mapping gives the export's values, so that the
// two compare as equal when they mean the same: the CRM answers
// "daysAfterInvoiceDate" for 1, 5000 for "5.000,00", and nested objects
// where the upsert sent references. A field that the answer does not hold
// (imageFile: the CRM answers a logo URL) is left out.
//
// countryCode canonicalises a country (code or English name) and reports
// whether it knew it; mapping provides it.
func CRMValues(c *crm.Customer, fields []string, countryCode func(string) (string, bool)) map[string]string {
	out := make(map[string]string, len(fields))
	v := reflect.ValueOf(c).Elem()
	for _, f := range fields {
		if a := AnswerOf(f); a != nil {
			out[f] = a.read(v, countryCode)
		}
	}
	return out
}

// Answer reads one field of the field table in a crm.Customer: the struct
// fields that the table's answer path names by their json tags, resolved
// once.
type Answer struct {
	field string
	kind  customer.Kind
	index []int // struct field indexes from crm.Customer; pointers are followed, nil reads as ""
	list  bool  // index ends at a list, and each is the path within every item
	each  []int
}

// answers are the fields of the table that the CRM's answer holds, by the
// length of their name: finding one compares the name with the few of its
// length, which is cheaper than hashing it (CRMValues looks up every field
// of every customer it reads back).
var answers = resolveAnswers()

// AnswerOf returns the answer of a field; nil when the answer does not
// hold the field.
func AnswerOf(field string) *Answer {
	if len(field) >= len(answers) {
		return nil
	}
	for _, a := range answers[len(field)] {
		if a.field == field {
			return a
		}
	}
	return nil
}

func resolveAnswers() [][]*Answer {
	var out [][]*Answer
	for _, f := range customer.Table() {
		if f.Answer == customer.NotGivenBack {
			continue
		}
		a, err := resolve(reflect.TypeFor[crm.Customer](), f)
		if err != nil {
			// The table and crm.Customer are both code: a test run meets this.
			panic(fmt.Sprintf("field table: %s: answer %q: %v", f.Name, f.Answer, err))
		}
		for len(out) <= len(f.Name) {
			out = append(out, nil)
		}
		out[len(f.Name)] = append(out[len(f.Name)], a)
	}
	return out
}

// resolve turns a field's answer path into struct field indexes of t.
func resolve(t reflect.Type, f customer.Field) (*Answer, error) {
	a := &Answer{field: f.Name, kind: f.Kind}
	for _, name := range strings.Split(f.Answer, ".") {
		t = deref(t)
		if t.Kind() == reflect.Slice && !a.list {
			a.list, t = true, deref(t.Elem())
		}
		index, ft, err := member(t, name)
		if err != nil {
			return a, err
		}
		if a.list {
			a.each = append(a.each, index...)
		} else {
			a.index = append(a.index, index...)
		}
		t = ft
	}
	if want := goKind(f.Kind); deref(t).Kind() != want || a.list != (f.Kind == customer.KindPayments) {
		return a, fmt.Errorf("a %s (list %v), want a %s", deref(t), a.list, want)
	}
	return a, nil
}

// member finds the field of struct type t whose json name is name. A
// struct with no json tags (a member decoded by hand, such as
// crm.RegionField) is entered through its one pointer field.
func member(t reflect.Type, name string) ([]int, reflect.Type, error) {
	if t.Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("%s has no member %q", t, name)
	}
	fields := reflect.VisibleFields(t)
	if inner, ok := wrapped(fields); ok {
		index, ft, err := member(deref(inner.Type), name)
		return append(slices.Clone(inner.Index), index...), ft, err
	}
	for _, sf := range fields {
		if tag, _, _ := strings.Cut(sf.Tag.Get("json"), ","); tag == name {
			return sf.Index, sf.Type, nil
		}
	}
	return nil, nil, fmt.Errorf("%s has no member %q", t, name)
}

// wrapped returns the one pointer field of a struct with no json tags.
func wrapped(fields []reflect.StructField) (reflect.StructField, bool) {
	var pointers []reflect.StructField
	for _, sf := range fields {
		if _, tagged := sf.Tag.Lookup("json"); tagged {
			return reflect.StructField{}, false
		}
		if sf.Type.Kind() == reflect.Pointer {
			pointers = append(pointers, sf)
		}
	}
	if len(pointers) != 1 {
		return reflect.StructField{}, false
	}
	return pointers[0], true
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// goKind is the Go kind that the answer holds a field of kind k in.
func goKind(k customer.Kind) reflect.Kind {
	switch k {
	case customer.KindBool:
		return reflect.Bool
	case customer.KindDouble:
		return reflect.Float64
	case customer.KindInt, customer.KindPayments:
		return reflect.Int64
	}
	return reflect.String
}

// Reading reads one customer field after field by their Answers, the
// customer resolved once (a reconciliation reads some twenty fields of
// every customer of the CRM).
type Reading struct {
	v           reflect.Value
	countryCode func(string) (string, bool)
}

// ReadingOf starts reading c.
func ReadingOf(c *crm.Customer, countryCode func(string) (string, bool)) Reading {
	return Reading{v: reflect.ValueOf(c).Elem(), countryCode: countryCode}
}

// Value returns the canonical value of a's field.
func (r Reading) Value(a *Answer) string { return a.read(r.v, r.countryCode) }

// read returns the field's canonical value in c (a crm.Customer).
func (a *Answer) read(c reflect.Value, countryCode func(string) (string, bool)) string {
	v, ok := walk(c, a.index)
	switch {
	case !ok:
		return ""
	case a.list:
		ids := make([]int64, 0, v.Len())
		for i := range v.Len() {
			if id, ok := walk(v.Index(i), a.each); ok {
				ids = append(ids, id.Int())
			}
		}
		return customer.PaymentTypes(ids)
	}
	switch a.kind {
	case customer.KindBool:
		return strconv.FormatBool(v.Bool())
	case customer.KindDouble:
		f := v.Float()
		if f == 0 {
			f = 0 // -0 is 0, as in mapping's canonical numbers
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	case customer.KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case customer.KindCountry:
		if countryCode == nil {
			break
		}
		if code, ok := countryCode(v.String()); ok {
			return code
		}
	case customer.KindDueType:
		if t, ok := DueTypeOfAnswer(v.String()); ok {
			return t
		}
	}
	return v.String()
}

// DueTypeOfAnswer reads a dueDateConfigType as the CRM answers it: "1" or
// "2", and whether it knew it. Writes take 1 or 2 ("1 if after the invoice
// date or 2 if after the end of the invoice month"); answers carry a name,
// which the reference shows for 1 only (daysAfterInvoiceDate). Type 2's
// name is nowhere in the reference (crmsim guesses
// daysAfterEndOfInvoiceMonth, a real CRM answered another), so a name is
// read by what it says, case and punctuation aside: one that speaks of
// the month is 2, one that speaks of the invoice date (and not of a
// month) is 1. `erpsync check` shows the names a CRM uses.
func DueTypeOfAnswer(s string) (string, bool) {
	if t, ok := customer.DueType(s); ok {
		return t, true
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	switch folded := b.String(); {
	case strings.Contains(folded, "month"):
		return "2", true
	case strings.Contains(folded, "invoicedate"):
		return "1", true
	}
	return "", false
}

// walk follows index from v, through pointers; false at a nil pointer.
func walk(v reflect.Value, index []int) (reflect.Value, bool) {
	for _, i := range index {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return v, false
		}
		v = v.Elem()
	}
	return v, true
}

// Differences lists the fields whose values differ between want (what
// erpsync pushed, or the export) and got (the CRM), sorted by field. A
// field missing from got is not compared (the CRM does not give it back).
func Differences(want, got map[string]string) []plan.Change {
	var out []plan.Change
	for f, w := range want {
		g, ok := got[f]
		if !ok || EqualValue(f, w, g) {
			continue
		}
		out = append(out, plan.Change{Field: f, Old: g, New: w})
	}
	slices.SortFunc(out, func(a, b plan.Change) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// EqualValue compares canonical values; a cleared value is equal to what
// the CRM holds once the field is cleared (the field table says what).
func EqualValue(field, want, got string) bool {
	if want == got {
		return true
	}
	f, ok := customer.Lookup(field)
	return ok && want == "" && f.IsCleared(got)
}
