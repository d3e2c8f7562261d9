package memstate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"erpsync/state"
)

// encode is the stored form of values: compact JSON, keys sorted, {} for
// none (sqlite.DB's, byte for byte).
func encode(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return string(b)
}

// decode reads a stored form into a new map.
func decode(s string) (map[string]string, error) {
	var out map[string]string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// writeOutcomes records a batch, in order, at once.
func (m *Mem) writeOutcomes(ctx context.Context, batch []state.Outcome) error {
	return m.update(ctx, "write checkpoint", func() error {
		add, err := encodeHistory(state.BatchHistory(batch)) // encoded first: the batch is written whole or not at all
		if err != nil {
			return err
		}
		now := m.Clock().Unix()
		for _, o := range batch {
			if !o.HistoryOnly() {
				m.write(o, now)
			}
		}
		m.appendHistory(add)
		return nil
	})
}

// write records one outcome.
func (m *Mem) write(o state.Outcome, now int64) {
	switch {
	case o.Failure != nil:
		f := *o.Failure
		f.Reference = o.Reference
		f.RunID = cmp.Or(f.RunID, o.RunID)
		f.Op, f.Line = cmp.Or(f.Op, o.Op), cmp.Or(f.Line, o.Line)
		f.At = fromUnix(cmp.Or(unix(f.At), now))
		m.failures[o.Reference] = f
		return
	case o.Op == state.OpDelete:
		if o.DeletedCopy != nil {
			id := o.CRMID
			if r := m.records[o.Reference]; id == 0 && r != nil {
				id = r.crmID
			}
			m.deleted = append(m.deleted, state.Deleted{Reference: o.Reference, CRMID: id,
				Copy: append([]byte{}, o.DeletedCopy...), RunID: o.RunID, DeletedAt: fromUnix(now)})
		}
		if _, ok := m.records[o.Reference]; ok {
			delete(m.records, o.Reference)
			m.sorted = nil
		}
	default:
		if _, ok := m.records[o.Reference]; !ok {
			m.sorted = nil
		}
		vals, crmVals := o.Maps()
		m.records[o.Reference] = &record{hash: o.Hash, vals: encode(vals), crmID: o.CRMID,
			lu: millis(o.CRMLastUpdated), crmVals: encode(crmVals), pushed: now, rowSum: o.RowSum}
	}
	delete(m.failures, o.Reference)
}

// refs returns the managed references in byte order; call it under the
// lock. The order is kept until a reference comes or goes.
func (m *Mem) refs() []string {
	if m.sorted == nil {
		m.sorted = make([]string, 0, len(m.records))
		for ref := range m.records {
			m.sorted = append(m.sorted, ref)
		}
		slices.Sort(m.sorted)
	}
	return m.sorted
}

// sortedRefs is refs under the write lock (it may sort).
func (m *Mem) sortedRefs(ctx context.Context, op string) ([]string, error) {
	var out []string
	err := m.update(ctx, op, func() error {
		out = m.refs()
		return nil
	})
	return out, err
}

// Get returns the record of a managed reference, or (nil, nil).
func (m *Mem) Get(ctx context.Context, ref string) (*state.Record, error) {
	var out *state.Record
	err := m.view(ctx, "read record "+ref, func() error {
		r := m.records[ref]
		if r == nil {
			return nil
		}
		var err error
		out, err = r.read(ref)
		return err
	})
	return out, err
}

// read is the record as state.Record.
func (r *record) read(ref string) (*state.Record, error) {
	vals, err := decode(r.vals)
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", ref, err)
	}
	crmVals, err := decode(r.crmVals)
	if err != nil {
		return nil, fmt.Errorf("CRM values of %s: %w", ref, err)
	}
	return &state.Record{Reference: ref, Hash: r.hash, Values: vals, CRMID: r.crmID,
		CRMLastUpdated: fromMillis(r.lu), CRMValues: crmVals, PushedAt: fromUnix(r.pushed)}, nil
}

// Values returns the values last pushed of a managed reference, nil for
// one not managed.
func (m *Mem) Values(ctx context.Context, ref string) (map[string]string, error) {
	var out map[string]string
	err := m.view(ctx, "read record "+ref, func() error {
		r := m.records[ref]
		if r == nil {
			return nil
		}
		var err error
		if out, err = decode(r.vals); err != nil {
			return fmt.Errorf("values of %s: %w", ref, err)
		}
		return nil
	})
	return out, err
}

// CRMLastUpdated returns the CRM's lastUpdated recorded of a managed
// reference; managed is false for one not managed.
func (m *Mem) CRMLastUpdated(ctx context.Context, ref string) (at time.Time, managed bool, err error) {
	err = m.view(ctx, "read record "+ref, func() error {
		if r := m.records[ref]; r != nil {
			at, managed = fromMillis(r.lu), true
		}
		return nil
	})
	return at, managed, err
}

// Count returns the number of managed references.
func (m *Mem) Count(ctx context.Context) (int, error) {
	n := 0
	err := m.view(ctx, "count records", func() error {
		n = len(m.records)
		return nil
	})
	return n, err
}

// Hashes streams every managed (reference, hash), in byte order.
func (m *Mem) Hashes(ctx context.Context, fn func(ref, hash string) error) error {
	return m.HashesBetween(ctx, "", "", fn)
}

// HashesBetween streams the managed (reference, hash) with from <=
// reference < to ("": to the end), in byte order.
func (m *Mem) HashesBetween(ctx context.Context, from, to string, fn func(ref, hash string) error) error {
	return m.HashSumsBetween(ctx, from, to, func(ref, hash string, _ uint64) error { return fn(ref, hash) })
}

// sumRow is a stretch's row: a reference, its hash and row sum.
type sumRow struct {
	ref, hash string
	sum       uint64
}

// HashSumsBetween is HashesBetween, with each record's row sum. The
// stretch is read at once, then streamed: fn may read the checkpoint.
func (m *Mem) HashSumsBetween(ctx context.Context, from, to string, fn func(ref, hash string, sum uint64) error) error {
	refs, err := m.sortedRefs(ctx, "read hashes")
	if err != nil {
		return err
	}
	lo := sort.SearchStrings(refs, from)
	hi := len(refs)
	if to != "" {
		hi = max(lo, sort.SearchStrings(refs, to))
	}
	var rows []sumRow
	err = m.view(ctx, "read hashes", func() error {
		rows = make([]sumRow, 0, hi-lo)
		for _, ref := range refs[lo:hi] {
			if r := m.records[ref]; r != nil { // gone since refs was read: not in this snapshot
				rows = append(rows, sumRow{ref, r.hash, r.rowSum})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read hashes: %w", err)
		}
		if err := fn(r.ref, r.hash, r.sum); err != nil {
			return err
		}
	}
	return nil
}

// Records streams every managed record, in byte order of the reference.
func (m *Mem) Records(ctx context.Context, fn func(state.Record) error) error {
	refs, err := m.sortedRefs(ctx, "read records")
	if err != nil {
		return err
	}
	var recs []*state.Record
	err = m.view(ctx, "read records", func() error {
		recs = make([]*state.Record, 0, len(refs))
		for _, ref := range refs {
			if r := m.records[ref]; r != nil {
				rec, err := r.read(ref)
				if err != nil {
					return fmt.Errorf("read records: %w", err)
				}
				recs = append(recs, rec)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read records: %w", err)
		}
		if err := fn(*r); err != nil {
			return err
		}
	}
	return nil
}

// SaveSeen remembers what a refresh saw in the CRM, at once: managed
// references only, and no copy older than the one recorded.
func (m *Mem) SaveSeen(ctx context.Context, seen []state.Seen) error {
	if len(seen) == 0 {
		return nil
	}
	return m.update(ctx, "save CRM copies", func() error {
		for _, s := range seen {
			lu := millis(s.CRMLastUpdated)
			if r := m.records[s.Reference]; r != nil && r.lu <= lu {
				r.crmID, r.lu, r.crmVals, r.gone = s.CRMID, lu, encode(s.CRMValues), 0
			}
		}
		return nil
	})
}

// SaveRowSums records the row sums of records whose hash is still the
// one given, at once.
func (m *Mem) SaveRowSums(ctx context.Context, sums []state.RowSum) error {
	if len(sums) == 0 {
		return nil
	}
	return m.update(ctx, "save row sums", func() error {
		for _, s := range sums {
			if r := m.records[s.Reference]; r != nil && r.hash == s.Hash {
				r.rowSum = s.Sum
			}
		}
		return nil
	})
}

// SaveHashes records new hashes, row sums (and values, when given) of
// managed records, at once.
func (m *Mem) SaveHashes(ctx context.Context, rs []state.Rehash) error {
	if len(rs) == 0 {
		return nil
	}
	return m.update(ctx, "save hashes", func() error {
		for _, h := range rs {
			r := m.records[h.Reference]
			if r == nil {
				continue
			}
			r.hash, r.rowSum = h.Hash, h.Sum
			switch {
			case h.Values != nil:
				r.vals = encode(h.Values)
			case h.Keep != nil: // the values of the fields no longer mapped are dropped
				vals, err := decode(r.vals)
				if err != nil {
					return fmt.Errorf("hash of %s: read values: %w", h.Reference, err)
				}
				maps.DeleteFunc(vals, func(k, _ string) bool { return !h.Keep[k] })
				r.vals = encode(vals)
			}
		}
		return nil
	})
}
