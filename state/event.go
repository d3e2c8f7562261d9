package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"erpsync/state/changes"
)

// Event is one thing erpsync did or saw of a customer: a run's create,
// update, delete or refusal of it, drift or a hand delete the refresh
// found. The history keeps only events: an unchanged customer makes
// none.
type Event struct {
	ID        int64 // the order of saving; newest is highest
	Reference string
	RunID     int64
	At        time.Time // kept to the second
	Kind      string    // one of the Event* kinds
	Op        string    // the operation sent (create, update, delete); "" for what was seen
	File      string    // the export
	Line      int       // its line; 0 when none
	// Changes: for a write, each field old → new; for drift, Old is the
	// CRM's value and New the one erpsync pushed.
	Changes []FieldChange
	Status  int    // the CRM's HTTP status, when it answered
	Answer  string // the CRM's answer when not a plain success: error code and message, or what it stored otherwise
	Policy  string // for drift: sync.drift applied
}

// FieldChange is one field of an event, old → new.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// Kinds of events.
const (
	EventCreated       = "created"
	EventUpdated       = "updated"
	EventDeleted       = "deleted"
	EventDeactivated   = "deactivated"
	EventReactivated   = "reactivated" // a deactivated customer's row back in the export
	EventRefused       = "refused"     // the CRM refused the write, or stored other than was sent
	EventInvalidRow    = "invalid_row" // erpsync refused the export's row (a row error)
	EventDrift         = "drift"       // edited in the CRM by hand
	EventDeletedByHand = "deleted_by_hand"
)

// HistoryKeeper is a customer's history in the checkpoint: what the
// engine records at a run's end, and what `why` and `status` read.
type HistoryKeeper interface {
	// SaveHistory adds events and removes those before keepSince (zero:
	// none), in one transaction; it returns how many it removed.
	SaveHistory(ctx context.Context, events []Event, keepSince time.Time) (pruned int, err error)
	// History returns a reference's events, newest first.
	History(ctx context.Context, ref string) ([]Event, error)
	// HistoryCount is the number of events kept.
	HistoryCount(ctx context.Context) (int, error)
}

// PutHistory queues history events that are no outcome's (the drift a
// run found, the rows it refused) before the outcomes put after it: they
// are saved in the transaction of the first batch that holds them, in
// order with the events the outcomes carry (Outcome.History).
func (w *Writer) PutHistory(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	return w.put(ctx, Outcome{History: events})
}

// HistoryOnly says whether an outcome of a batch is history events alone
// (PutHistory), no outcome to record.
func (o *Outcome) HistoryOnly() bool { return o.Op == "" }

// BatchHistory is the history events a batch carries, in order.
func BatchHistory(batch []Outcome) []Event {
	n := 0
	for i := range batch {
		n += len(batch[i].History)
	}
	if n == 0 {
		return nil
	}
	out := make([]Event, 0, n)
	for i := range batch {
		out = append(out, batch[i].History...)
	}
	return out
}

// EncodeChanges is the stored form of an event's changes ("" for none):
// changes.Changes's, since wt-s4-history; JSON before.
func EncodeChanges(cs []FieldChange) (string, error) {
	if len(cs) == 0 {
		return "", nil
	}
	return changes.Changes(len(cs), func(i int) (string, string, string) { return cs[i].Field, cs[i].Old, cs[i].New }), nil
}

// DecodeChanges reads EncodeChanges's form, or the JSON of the rows saved
// before it ('[').
func DecodeChanges(s string) ([]FieldChange, error) {
	if s == "" {
		return nil, nil
	}
	var cs []FieldChange
	var err error
	if s[0] == '[' {
		err = json.Unmarshal([]byte(s), &cs)
	} else {
		err = changes.ReadChanges(s, func(f, o, n string) { cs = append(cs, FieldChange{Field: f, Old: o, New: n}) })
	}
	if err != nil {
		return nil, fmt.Errorf("decode changes: %w", err)
	}
	return cs, nil
}
