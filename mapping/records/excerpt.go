package records

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// What an error may show of an export: its texts (cells, header names,
// members of a zip) are the customers' data, and an error goes to the
// log, /healthz, .error.txt and the reports, once per row.
const (
	MaxExcerpt   = 40  // bytes of one text an error quotes (Excerpt)
	maxListed    = 10  // items an error lists; the rest are counted
	maxErrorText = 300 // bytes of a row error's message (BoundError)
)

// Excerpt returns s quoted, as %q does, cut to its first MaxExcerpt bytes
// (on a rune boundary) when longer, the rest counted: an error never quotes
// a whole cell.
func Excerpt(s string) string {
	if len(s) <= MaxExcerpt {
		return strconv.Quote(s)
	}
	cut := MaxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes more)", len(s)-cut)
}

// QuoteList quotes the first maxListed items, each an Excerpt, and counts
// the others: "and N more".
func QuoteList(items []string) string {
	n := min(len(items), maxListed)
	q := make([]string, n, n+1)
	for i, s := range items[:n] {
		q[i] = Excerpt(strings.TrimSpace(s))
	}
	if len(items) > n {
		q = append(q, fmt.Sprintf("and %d more", len(items)-n))
	}
	return strings.Join(q, ", ")
}

// cutError is an error whose message was cut to maxErrorText bytes. It
// unwraps to the innermost error of the one cut when that one is short (a
// sentinel such as ErrBadNumber), never to the long text.
type cutError struct {
	text  string
	inner error
}

func (e *cutError) Error() string { return e.text }
func (e *cutError) Unwrap() error { return e.inner }

// BoundError returns err, or, when its message is longer than
// maxErrorText bytes (a value error quoting a cell of a megabyte), a
// *cutError holding its first maxErrorText bytes and the count of the rest.
func BoundError(err error) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	if len(s) <= maxErrorText {
		return err
	}
	inner := err
	for next := errors.Unwrap(inner); next != nil; next = errors.Unwrap(inner) {
		inner = next
	}
	if inner == err || len(inner.Error()) > maxErrorText {
		inner = nil
	}
	return &cutError{text: CutText(s, maxErrorText), inner: inner}
}

// CutText returns s, or its first n bytes (on a rune boundary) and the
// count of the others when it is longer.
func CutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes more)", s[:cut], len(s)-cut)
}
