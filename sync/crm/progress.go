package crm

import (
	"fmt"
	"slices"
)

// MaxStalls is how many pages in a row may make no progress before a walk
// stops with a *StalledError.
const MaxStalls = 3

// Progress watches one walk over the list's pages (one query, its offset
// advancing) and stops one that goes nowhere: a CRM that ignores offset
// answers the same page again and again, one whose totals never shrink
// would be walked for ever. Changes made meanwhile can stall a page now
// and then, so only MaxStalls in a row stop the walk. The zero value is
// ready; Walk names the walk in the error.
type Progress struct {
	Walk string

	requests, stalls int
	prevIDs          []int64
	prevLeft         int // records left after the previous page; -1 unknown
	started          bool
}

// Check is told of each page p, answered to q, in the walk's order. It
// returns a *StalledError when MaxStalls pages in a row made no progress.
func (g *Progress) Check(q ListQuery, p *Page) error {
	g.requests++
	ids := make([]int64, 0, p.Len())
	for _, s := range p.Slots() {
		ids = append(ids, s.ID)
	}
	left := -1
	if p.Paging.Total > 0 {
		left = p.Paging.Total - q.Offset - p.Len()
	}
	reason := ""
	switch {
	case len(ids) > 0 && slices.Equal(ids, g.prevIDs):
		reason = "a page repeated the one before"
	case g.started && g.prevLeft >= 0 && left >= g.prevLeft && p.More(q):
		reason = fmt.Sprintf("%d records left, as many or more than a page before", max(left, 0))
	}
	g.prevIDs, g.prevLeft, g.started = ids, left, true
	if reason == "" {
		g.stalls = 0
		return nil
	}
	g.stalls++
	if g.stalls >= MaxStalls {
		return &StalledError{Walk: g.Walk, Requests: g.requests, Reason: reason}
	}
	return nil
}
