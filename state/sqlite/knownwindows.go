package sqlite

import (
	"context"
	"time"

	"erpsync/state"
)

// KnownWindows cuts [from, until) into consecutive windows holding about
// size known customers each, and at least least windows when the known
// customers' lastUpdated allow it: the windows that counting asks the CRM
// about, as many as the customers call for, whatever the time they span.
// Cuts are whole seconds, as the API filters: customers of one second
// are never cut apart, so a window may hold more than size. The first
// window starts at from, the last ends at until; with no known customer
// there is one window. One read of the known customers in lastUpdated
// order (an index range of records_known).
func (db *DB) KnownWindows(ctx context.Context, from, until time.Time, size, least int) ([]state.KnownWindow, error) {
	n, err := db.CountKnown(ctx, from, until)
	if err != nil {
		return nil, err
	}
	parts := max(least, (n+size-1)/max(size, 1), 1)
	lo, hi := bounds(from, until)
	rows, err := db.ro.QueryContext(ctx, `SELECT crm_last_updated FROM (`+knownIn+`) ORDER BY 1`, lo, hi)
	if err != nil {
		return nil, db.fail("read known customers' windows", err)
	}
	defer rows.Close()
	var out []state.KnownWindow
	cur := state.KnownWindow{From: from}
	prev := from // the lastUpdated of the customer before
	next := 1    // the next cut, at the first new lastUpdated after next*n/parts customers
	for i := 0; rows.Next(); i++ {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, db.fail("read known customers' windows", err)
		}
		t := fromMillis(s).Truncate(time.Second) // cut on whole seconds, as the API filters
		if next < parts && i >= next*n/parts && t.After(prev) {
			cur.Until = t
			out = append(out, cur)
			cur = state.KnownWindow{From: t}
			for next < parts && next*n/parts <= i {
				next++
			}
		}
		cur.Known++
		prev = t
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("read known customers' windows", err)
	}
	cur.Until = until
	return append(out, cur), nil
}
