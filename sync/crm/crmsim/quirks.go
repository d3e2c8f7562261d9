package crmsim

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// refKey is the key of a reference in Store.byRef: the reference itself,
// or with Quirks.References "ci" its folded form, as a database whose
// collation ignores case, accents and trailing spaces (MySQL's
// utf8mb4_general_ci, say) compares it. The reference says nothing of how
// references compare. s.mu is held.
func (s *Store) refKey(ref string) string {
	if !s.foldRefs {
		return ref
	}
	return foldReference(ref)
}

// foldReference lowers a reference's case, takes its accents off and
// drops its trailing spaces: "Kâ-1 " and "ka-1" fold alike.
func foldReference(ref string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimRight(ref, " ")) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// isDigits reports a value made of ASCII digits only.
func isDigits(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
