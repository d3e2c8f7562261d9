package memstate

import (
	"context"
	"fmt"
	"time"

	"erpsync/state"
)

// historyEvent is an event as the history table keeps it.
type historyEvent struct {
	state.Event
	at      int64  // unix seconds
	changes string // JSON
}

// SaveHistory adds events and prunes those before keepSince, as one
// transaction.
func (m *Mem) SaveHistory(ctx context.Context, events []state.Event, keepSince time.Time) (int, error) {
	pruned := 0
	err := m.update(ctx, "record history", func() error {
		add, err := encodeHistory(events)
		if err != nil {
			return err
		}
		if !keepSince.IsZero() {
			cut := state.AtSecond(keepSince).Unix()
			kept := m.history[:0]
			for _, e := range m.history {
				if e.at < cut {
					pruned++
					continue
				}
				kept = append(kept, e)
			}
			m.history = kept
		}
		m.appendHistory(add)
		return nil
	})
	return pruned, err
}

// encodeHistory is events as the history table keeps them.
func encodeHistory(events []state.Event) ([]historyEvent, error) {
	add := make([]historyEvent, 0, len(events))
	for _, e := range events {
		changes, err := state.EncodeChanges(e.Changes)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", e.Reference, err)
		}
		add = append(add, historyEvent{Event: e, at: state.AtSecond(e.At).Unix(), changes: changes})
	}
	return add, nil
}

// appendHistory adds encoded events, numbering them; call it under the
// lock.
func (m *Mem) appendHistory(add []historyEvent) {
	for _, e := range add {
		m.historyID++
		e.ID = m.historyID
		m.history = append(m.history, e)
	}
}

// History returns a reference's events, newest first.
func (m *Mem) History(ctx context.Context, ref string) ([]state.Event, error) {
	var out []state.Event
	err := m.view(ctx, "read history", func() error {
		for i := len(m.history) - 1; i >= 0; i-- {
			h := m.history[i]
			if h.Reference != ref {
				continue
			}
			e, err := h.decoded()
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// HistoryCount is the number of events kept.
func (m *Mem) HistoryCount(ctx context.Context) (int, error) {
	n := 0
	err := m.view(ctx, "count history", func() error {
		n = len(m.history)
		return nil
	})
	return n, err
}

// RunEvents returns a run's first events, at most limit, in the order
// saved, as sqlite.DB.RunEvents does: from the first event of runID or a
// later run (runs save their events in the order of their ids), while
// they are runID's.
func (m *Mem) RunEvents(ctx context.Context, runID int64, limit int) ([]state.Event, error) {
	var out []state.Event
	err := m.view(ctx, "read a run's history", func() error {
		i := 0
		for i < len(m.history) && m.history[i].RunID < runID {
			i++
		}
		for ; i < len(m.history) && len(out) < limit && m.history[i].RunID == runID; i++ {
			e, err := m.history[i].decoded()
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// decoded is the event as it was saved: its time to the second, its
// changes decoded.
func (h historyEvent) decoded() (state.Event, error) {
	e := h.Event
	e.At = time.Unix(h.at, 0).UTC()
	var err error
	e.Changes, err = state.DecodeChanges(h.changes)
	return e, err
}
