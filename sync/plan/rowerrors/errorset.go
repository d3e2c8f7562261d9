package rowerrors

import (
	"strings"
	"unicode/utf8"

	"erpsync/mapping"
)

// DefaultMax is how many row errors (and as many warnings) a plan
// keeps whole when its MaxErrors is 0 (reports.max_errors): about
// 30 MB of memory, some 15 MB of errors.csv. Past it they are counted by
// kind only: a .gz of millions of bad rows costs no more.
const DefaultMax = 100_000

// Bounds of what is kept of each kind of row error, for summary.json and
// the log: a few samples, not every row.
const (
	maxKinds     = 100 // kinds told apart; later ones count as otherKind
	maxKindLines = 3   // lines kept of each kind
	maxKindText  = 80  // bytes of a kind's name
	otherKind    = "other"
)

// Kind counts the row errors (or warnings) of one kind: the column
// and the message with its values elided.
type Kind struct {
	Kind    string `json:"kind"`
	Count   int    `json:"count"`
	Listed  int    `json:"listed"`  // of which kept whole (errors.csv, warnings.csv)
	Lines   []int  `json:"lines"`   // the first few
	Example string `json:"example"` // the first one's message
}

// Set keeps the first max row errors of a plan whole and counts every
// one by kind.
type Set struct {
	max   int
	kept  []*mapping.RowError
	kinds []Kind
	index map[string]int // kind → in kinds
}

// New returns a set that keeps max errors whole (0: DefaultMax).
func New(max int) *Set {
	if max <= 0 {
		max = DefaultMax
	}
	return &Set{max: max, index: map[string]int{}}
}

// Add counts e, and keeps it while fewer than max are kept: a copy of it
// with its own copy of the reference, not the whole line it was cut from.
func (s *Set) Add(e *mapping.RowError) {
	k := errorKind(e)
	i, ok := s.index[k]
	if !ok && len(s.kinds) >= maxKinds {
		k = otherKind
		i, ok = s.index[k]
	}
	if !ok {
		i = len(s.kinds)
		s.index[k] = i
		s.kinds = append(s.kinds, Kind{Kind: k, Example: Text(e)})
	}
	kind := &s.kinds[i]
	kind.Count++
	if len(kind.Lines) < maxKindLines && e.Line > 0 {
		kind.Lines = append(kind.Lines, e.Line)
	}
	if len(s.kept) < s.max {
		kind.Listed++
		c := *e
		c.Reference = strings.Clone(e.Reference)
		s.kept = append(s.kept, &c)
	}
}

// Kept returns the errors kept whole, in the order they were added.
func (s *Set) Kept() []*mapping.RowError { return s.kept }

// Kinds returns the counts by kind, in the order the kinds were met.
func (s *Set) Kinds() []Kind { return s.kinds }

// Omitted counts the errors counted but not kept.
func (s *Set) Omitted() int {
	n := 0
	for _, k := range s.kinds {
		n += k.Count - k.Listed
	}
	return n
}

// errorKind names the kind of a row error: its column and its message,
// quoted values and numbers elided ("KLIMK: bad number "…"").
func errorKind(e *mapping.RowError) string {
	var b strings.Builder
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	msg := Text(e)
	for i := 0; i < len(msg) && b.Len() < maxKindText; i++ {
		switch c := msg[i]; {
		case c == '"':
			i = closingQuote(msg, i)
			b.WriteString(`"…"`)
		case c >= '0' && c <= '9':
			for i+1 < len(msg) && msg[i+1] >= '0' && msg[i+1] <= '9' {
				i++
			}
			b.WriteByte('N')
		default:
			b.WriteByte(c)
		}
	}
	return strings.ToValidUTF8(b.String(), "")
}

// closingQuote returns the index of the quote closing the Go-quoted
// string that opens at s[open], or the end of s.
func closingQuote(s string, open int) int {
	for i := open + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(s)
}

// Text is a row error's message, without its line and column.
func Text(e *mapping.RowError) string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Error()
}

// maxCell bounds a reference written in a report: a cell of a megabyte
// is cut, once per row.
const maxCell = 256

// CutCell cuts s to maxCell bytes (on a rune boundary), marking the cut.
func CutCell(s string) string {
	if len(s) <= maxCell {
		return s
	}
	cut := maxCell
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
