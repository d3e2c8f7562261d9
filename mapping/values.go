package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"erpsync/mapping/country"
	"erpsync/mapping/customer"
)

// cellValue turns one cell into its canonical text, by its field's kind.
// Empty stays empty: the ERP cleared the field.
func (m *Mapping) cellValue(c column, cell string) (string, error) {
	cell = strings.TrimSpace(cell)
	if m.checks.isNull(cell) {
		return "", nil
	}
	field, k := c.field, c.kind
	if vm := c.values; vm != nil && cell != "" && k != customer.KindPayments {
		// The map first; a value outside it reads as the field reads it,
		// unless values_strict names the field.
		if mapped, ok := lookup(vm, cell); ok {
			cell = mapped
		} else if m.checks.strictValues[field] {
			return "", fmt.Errorf("value %q is not in values.%s (values_strict)", cell, field)
		}
	}
	if cell == "" {
		return "", nil
	}
	v, err := m.kindValue(k, cell)
	if err != nil && nullLike(cell) {
		err = fmt.Errorf("%w; if it means empty, add %q to source.null_values", err, cell)
	}
	return v, err
}

// nullLike reports the cells that ERPs and spreadsheets write for "no
// value": worth naming source.null_values when one is refused.
func nullLike(cell string) bool {
	switch strings.ToUpper(cell) {
	case "NULL", "N/A", "#N/A", `\N`:
		return true
	}
	return false
}

// kindValue reads a cell, trimmed, mapped and not empty, by its kind.
func (m *Mapping) kindValue(k customer.Kind, cell string) (string, error) {
	switch k {
	case customer.KindBool:
		switch l := strings.ToLower(cell); {
		case m.trues[l]:
			return "true", nil
		case m.falses[l]:
			return "false", nil
		}
		return "", fmt.Errorf("%q is neither a true value nor a false value", cell)
	case customer.KindDouble:
		return canonicalNumber(cell, m.cfg.Decimal)
	case customer.KindInt:
		n, err := strconv.ParseInt(cell, 10, 64)
		if err != nil {
			f, ferr := ParseNumber(cell, m.cfg.Decimal)
			if ferr != nil || f != float64(int64(f)) {
				return "", fmt.Errorf("bad whole number %q", cell)
			}
			n = int64(f)
		}
		return strconv.FormatInt(n, 10), nil
	case customer.KindCountry:
		return country.Lookup(cell)
	case customer.KindDueType:
		if v, ok := customer.DueType(cell); ok {
			return v, nil
		}
		return "", fmt.Errorf("bad dueDateConfigType %q (want 1, 2, %s or %s)", cell, customer.DueDaysAfterInvoiceDate, customer.DueDaysAfterEndOfInvoiceMonth)
	case customer.KindPayments:
		return m.paymentTypes(cell)
	case customer.KindCurrency:
		if len(cell) != 3 || !isLetter(cell[0]) || !isLetter(cell[1]) || !isLetter(cell[2]) {
			return "", fmt.Errorf("bad currency %q (want an ISO 4217 code such as EUR)", cell)
		}
		return strings.ToUpper(cell), nil
	}
	return cell, nil
}

// lookup finds an ERP value in a value map: exactly, else ignoring case
// and surrounding spaces.
func lookup(vm map[string]string, v string) (string, bool) {
	if out, ok := vm[v]; ok {
		return out, true
	}
	for k, out := range vm {
		if strings.EqualFold(strings.TrimSpace(k), v) {
			return out, true
		}
	}
	return "", false
}

// paymentTypes splits a list, maps each item to an id and writes the
// API's JSON, ids ascending.
func (m *Mapping) paymentTypes(cell string) (string, error) {
	vm := m.cfg.Values["paymentTypes"]
	ids := make([]int64, 0, 8)
	for item := range strings.SplitSeq(cell, m.cfg.ListSeparator) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if vm != nil {
			if mapped, ok := lookup(vm, item); ok {
				item = mapped
			} else if m.checks.strictValues["paymentTypes"] {
				return "", fmt.Errorf("payment type %q is not in values.paymentTypes (values_strict)", item)
			}
		}
		id, err := strconv.ParseInt(item, 10, 64)
		if err != nil || id <= 0 {
			return "", fmt.Errorf("payment type %q is not an id (map it in values.paymentTypes)", item)
		}
		ids = append(ids, id)
	}
	return customer.PaymentTypes(ids), nil
}

// ErrBadNumber is wrapped by every number that cannot be read.
var ErrBadNumber = errors.New("bad number")

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// canonicalNumber returns a number's canonical text: the float ParseNumber
// reads, written by strconv.FormatFloat(f, 'f', -1, 64), zero unsigned.
func canonicalNumber(cell, decimal string) (string, error) {
	if s, ok := plainNumber(cell, decimal); ok {
		return s, nil
	}
	f, err := ParseNumber(cell, decimal)
	if err != nil {
		return "", err
	}
	if f == 0 {
		f = 0 // -0 is 0
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// maxExactDigits is how many decimal digits a float64 always keeps: a
// number of at most that many digits is written back by FormatFloat with
// the same digits.
const maxExactDigits = 15

// plainNumber is canonicalNumber's fast path, for the common shapes
// (-1234.5, 1.234,50 with decimal ","): the digits are rewritten without
// a float on the way. ok is false for anything else, which then takes
// ParseNumber's way.
func plainNumber(s, decimal string) (string, bool) {
	if len(decimal) != 1 || len(s) == 0 || len(s) > 40 {
		return "", false
	}
	dec, thousands := decimal[0], byte(',')
	if dec == ',' {
		thousands = '.'
	}
	var digits [40]byte
	n, i := 0, 0
	neg := s[0] == '-'
	if neg {
		i++
	}
	group := -1 // digits since the last thousands separator; -1 before the first
	for ; i < len(s) && s[i] != dec; i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits[n] = c
			n++
			if group >= 0 {
				group++
			}
		case c == thousands && n > 0 && (group < 0 || group == 3):
			group = 0
		default:
			return "", false
		}
	}
	if n == 0 || group >= 0 && group != 3 {
		return "", false
	}
	intDigits := n
	if i < len(s) { // the decimal mark
		for i++; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' || n == len(digits) {
				return "", false
			}
			digits[n] = c
			n++
		}
	}
	if n > maxExactDigits {
		return "", false
	}
	lead := 0
	for lead < intDigits-1 && digits[lead] == '0' {
		lead++
	}
	end := n
	for end > intDigits && digits[end-1] == '0' {
		end--
	}
	var out [42]byte
	o := 0
	zero := true
	for _, c := range digits[lead:end] {
		zero = zero && c == '0'
	}
	if neg && !zero {
		out[o] = '-'
		o++
	}
	o += copy(out[o:], digits[lead:intDigits])
	if end > intDigits {
		out[o] = '.'
		o++
		o += copy(out[o:], digits[intDigits:end])
	}
	return string(out[:o]), true
}

// ParseNumber reads a number written with decimal "." or ",", optional
// thousands separators (the other mark, spaces, apostrophes) and a
// leading or trailing minus: "5.000,00" → 5000, "133,55-" → -133.55.
func ParseNumber(s, decimal string) (float64, error) {
	orig := s
	s = strings.TrimSpace(s)
	neg := false
	if t, ok := strings.CutSuffix(s, "-"); ok {
		s, neg = strings.TrimSpace(t), true
	}
	if t, ok := strings.CutPrefix(s, "-"); ok && !neg {
		s, neg = t, true
	} else if t, ok := strings.CutPrefix(s, "+"); ok {
		s = t
	}
	thousands := ','
	if decimal == "," {
		thousands = '.'
	}
	if strings.ContainsAny(s, " \u00a0'") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\u00a0' || r == '\'' {
				return -1
			}
			return r
		}, s)
	}
	intPart, frac, hasFrac := strings.Cut(s, decimal)
	if groups := strings.Split(intPart, string(thousands)); len(groups) > 1 {
		// Thousands separators must group digits by three: "5.000" but never "5.5".
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, fmt.Errorf("%w %q", ErrBadNumber, orig)
			}
		}
		intPart = strings.Join(groups, "")
	}
	s = intPart
	if hasFrac {
		s += "." + frac
	}
	if !isPlainNumber(s) {
		return 0, fmt.Errorf("%w %q", ErrBadNumber, orig)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q", ErrBadNumber, orig)
	}
	if neg {
		f = -f
	}
	return f, nil
}

// isPlainNumber accepts digits with at most one dot.
func isPlainNumber(s string) bool {
	dots := 0
	digits := 0
	for _, r := range s {
		switch {
		case r == '.':
			dots++
		case r >= '0' && r <= '9':
			digits++
		default:
			return false
		}
	}
	return dots <= 1 && digits > 0
}
