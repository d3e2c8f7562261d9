package memstate

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"erpsync/state"
)

// knownRow is a known customer, as sqlite.DB's knownIn selects it.
type knownRow struct {
	ref     string
	crmID   int64
	lu      int64 // unix milliseconds
	managed bool
}

func (k knownRow) known() state.Known {
	return state.Known{Reference: k.ref, CRMID: k.crmID, LastUpdated: fromMillis(k.lu), Managed: k.managed}
}

// bounds are a window's stored bounds: [from, until), until zero meaning
// no end.
func bounds(from, until time.Time) (int64, int64) {
	hi := int64(math.MaxInt64)
	if !until.IsZero() {
		hi = millis(until)
	}
	return millis(from), hi
}

// shadowed reports whether an unmanaged customer's reference is managed:
// it then counts once, as the managed record. Call it under the lock.
func (m *Mem) shadowed(u unmanaged) bool {
	_, ok := m.records[u.ref]
	return ok && u.ref != ""
}

// knownIn returns the known customers of [from, until), by lastUpdated,
// then reference. Call it under the lock.
func (m *Mem) knownIn(from, until time.Time) []knownRow {
	lo, hi := bounds(from, until)
	var out []knownRow
	for ref, r := range m.records {
		if r.gone == 0 && r.lu >= lo && r.lu < hi {
			out = append(out, knownRow{ref, r.crmID, r.lu, true})
		}
	}
	for id, u := range m.unmanaged {
		if u.lu >= lo && u.lu < hi && !m.shadowed(u) {
			out = append(out, knownRow{u.ref, id, u.lu, false})
		}
	}
	slices.SortFunc(out, func(a, b knownRow) int {
		return cmp.Or(cmp.Compare(a.lu, b.lu), cmp.Compare(a.ref, b.ref), cmp.Compare(a.crmID, b.crmID))
	})
	return out
}

// known reads the known customers of a window.
func (m *Mem) known(ctx context.Context, op string, from, until time.Time) ([]knownRow, error) {
	var out []knownRow
	err := m.view(ctx, op, func() error {
		out = m.knownIn(from, until)
		return nil
	})
	return out, err
}

// CountKnown counts the known customers whose lastUpdated falls in
// [from, until); a zero until has no end.
func (m *Mem) CountKnown(ctx context.Context, from, until time.Time) (int, error) {
	rows, err := m.known(ctx, "count known customers", from, until)
	return len(rows), err
}

// KnownIn returns the known customers whose lastUpdated falls in
// [from, until), by lastUpdated.
func (m *Mem) KnownIn(ctx context.Context, from, until time.Time) ([]state.Known, error) {
	rows, err := m.known(ctx, "read known customers", from, until)
	if err != nil {
		return nil, err
	}
	var out []state.Known
	for _, k := range rows {
		out = append(out, k.known())
	}
	return out, nil
}

// MedianKnown returns the lastUpdated second that splits the known
// customers of [from, until) in halves (the zero time when there are
// none).
func (m *Mem) MedianKnown(ctx context.Context, from, until time.Time) (time.Time, error) {
	rows, err := m.known(ctx, "read known customers by lastUpdated", from, until)
	if err != nil || len(rows) == 0 {
		return time.Time{}, err
	}
	return second(rows[len(rows)/2]), nil
}

// second is a known customer's lastUpdated, to the second: windows are
// cut on whole seconds, as the API filters.
func second(k knownRow) time.Time { return fromMillis(k.lu).Truncate(time.Second) }

// KnownBounds returns the lastUpdated seconds that split the known
// customers of [from, until) into parts of about equal numbers, as
// sqlite.DB.KnownBounds does.
func (m *Mem) KnownBounds(ctx context.Context, from, until time.Time, parts int) ([]time.Time, error) {
	rows, err := m.known(ctx, "read known customers by lastUpdated", from, until)
	n := len(rows)
	if err != nil || n == 0 || parts < 2 {
		return nil, err
	}
	floor := second(rows[0])
	var out []time.Time
	for i := 1; i < parts; i++ {
		if t := second(rows[i*n/parts]); t.After(floor) {
			out = append(out, t)
			floor = t
		}
	}
	return out, nil
}

// KnownWindows cuts [from, until) into consecutive windows holding about
// size known customers each, and at least least windows when their
// lastUpdated allow it, as sqlite.DB.KnownWindows does: cuts on whole
// seconds, never between customers of one second.
func (m *Mem) KnownWindows(ctx context.Context, from, until time.Time, size, least int) ([]state.KnownWindow, error) {
	rows, err := m.known(ctx, "read known customers' windows", from, until)
	if err != nil {
		return nil, err
	}
	n := len(rows)
	parts := max(least, (n+size-1)/max(size, 1), 1)
	var out []state.KnownWindow
	cur := state.KnownWindow{From: from}
	prev := from // the second of the customer before
	next := 1    // the next cut, at the first new second after next*n/parts customers
	for i, k := range rows {
		t := second(k)
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
	cur.Until = until
	return append(out, cur), nil
}

// knownByReference is what the checkpoint expects of ref: the managed
// record not found deleted by hand, else the unmanaged customer of that
// reference (the lowest crm id, when there are several). Call it under
// the lock.
func (m *Mem) knownByReference(ref string) (state.Known, bool) {
	if r := m.records[ref]; r != nil && r.gone == 0 {
		return knownRow{ref, r.crmID, r.lu, true}.known(), true
	}
	if ref == "" {
		return state.Known{}, false
	}
	var best *knownRow
	for id, u := range m.unmanaged {
		if u.ref == ref && (best == nil || id < best.crmID) {
			best = &knownRow{ref, id, u.lu, false}
		}
	}
	if best == nil {
		return state.Known{}, false
	}
	return best.known(), true
}

// KnownByReference returns what the checkpoint expects of a reference in
// the CRM; ok is false for one it does not know.
func (m *Mem) KnownByReference(ctx context.Context, ref string) (k state.Known, ok bool, err error) {
	err = m.view(ctx, "read known customer "+ref, func() error {
		k, ok = m.knownByReference(ref)
		return nil
	})
	return k, ok, err
}

// KnownByReferences is KnownByReference for many references at once.
func (m *Mem) KnownByReferences(ctx context.Context, refs []string) (map[string]state.Known, error) {
	out := make(map[string]state.Known, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	err := m.view(ctx, "read known customers", func() error {
		for _, ref := range refs {
			if k, ok := m.knownByReference(ref); ok {
				out[ref] = k
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveCounted records, at once, the unmanaged customers seen or gone and
// the managed ones deleted by hand, as sqlite.DB.SaveCounted does.
func (m *Mem) SaveCounted(ctx context.Context, c state.Counted) error {
	return m.update(ctx, "save counts", func() error {
		for _, id := range c.Forget {
			delete(m.unmanaged, id)
		}
		for _, u := range c.Unmanaged {
			m.unmanaged[u.CRMID] = unmanaged{ref: u.Reference, lu: millis(u.LastUpdated)}
		}
		for _, g := range c.Gone {
			if r := m.records[g.Reference]; r != nil && r.lu == millis(g.LastUpdated) {
				r.gone = max(unix(c.At), 1)
			}
		}
		for id, u := range m.unmanaged {
			if m.shadowed(u) {
				delete(m.unmanaged, id)
			}
		}
		return nil
	})
}

// DeletedByHand returns the managed records found deleted by hand in the
// CRM and not pushed or seen again since, by reference.
func (m *Mem) DeletedByHand(ctx context.Context) ([]state.Known, error) {
	var out []state.Known
	err := m.update(ctx, "read records deleted by hand", func() error {
		for _, ref := range m.refs() {
			if r := m.records[ref]; r.gone > 0 {
				out = append(out, knownRow{ref, r.crmID, r.lu, true}.known())
			}
		}
		return nil
	})
	return out, err
}

// UnmanagedCount is the number of customers in the CRM that erpsync has
// seen but does not manage.
func (m *Mem) UnmanagedCount(ctx context.Context) (int, error) {
	n := 0
	err := m.view(ctx, "count unmanaged customers", func() error {
		for _, u := range m.unmanaged {
			if !m.shadowed(u) {
				n++
			}
		}
		return nil
	})
	return n, err
}
