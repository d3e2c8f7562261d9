package memstate

import (
	"context"
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
		add := make([]historyEvent, 0, len(events))
		for _, e := range events {
			changes, err := state.EncodeChanges(e.Changes)
			if err != nil {
				return err
			}
			add = append(add, historyEvent{Event: e, at: state.AtSecond(e.At).Unix(), changes: changes})
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
		for _, e := range add {
			m.historyID++
			e.ID = m.historyID
			m.history = append(m.history, e)
		}
		return nil
	})
	return pruned, err
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
			e := h.Event
			e.At = time.Unix(h.at, 0).UTC()
			var err error
			if e.Changes, err = state.DecodeChanges(h.changes); err != nil {
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
