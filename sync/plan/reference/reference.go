package reference

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"erpsync/mapping"
)

// Check refuses a reference that cannot name one customer in the
// API's paths (/customers/reference/{ref}): empty after trimming, "." or
// "..", or holding a slash, a backslash or a control character, which a
// server or a proxy on the way may read as another route.
func Check(ref string) error {
	switch strings.TrimSpace(ref) {
	case "":
		return errors.New("the reference is empty")
	case ".", "..":
		return fmt.Errorf("the reference %s would name another API route", mapping.Excerpt(ref))
	}
	if i := strings.IndexFunc(ref, func(r rune) bool { return r == '/' || r == '\\' || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("the reference %s holds %q, which would change the API path", mapping.Excerpt(ref), ref[i:i+1])
	}
	return nil
}

// Fold returns a reference as a CRM comparing loosely sees it:
// upper case, accents dropped, trailing spaces trimmed. same reports that
// it is the reference itself, as most are (plain ASCII without a lower
// case letter), at the cost of one pass over its bytes.
func Fold(ref string) (folded string, same bool) {
	plain := true
	for i := 0; i < len(ref) && plain; i++ {
		c := ref[i]
		plain = c < 0x80 && (c < 'a' || c > 'z')
	}
	if plain && !strings.HasSuffix(ref, " ") {
		return ref, true
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimRight(ref, " \t")) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	folded = b.String()
	return folded, folded == ref
}

// DigitsOnly reports whether s is one or more ASCII digits.
func DigitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Mode says how the CRM compares references: ignoring case,
// accents and trailing spaces (the default), or exactly.
type Mode string

const (
	Insensitive Mode = "insensitive"
	Exact       Mode = "exact"
)
