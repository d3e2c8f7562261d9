package history

import (
	gosync "sync"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/plan"
	"erpsync/sync/plan/rowerrors"
)

// DefaultMaxEvents bounds the writes a Recorder keeps of one run: a
// migration import of millions of rows keeps the first ones and counts
// the others, so that its memory stays bounded (some 30 MB of events and
// maxChangeBytes of their fields).
const DefaultMaxEvents = 200_000

// maxChangeBytes bounds the bytes of field values a Recorder keeps of one
// run (a million creates list every field of each): past it, an event
// keeps its reference, line and answer, not its fields.
const maxChangeBytes = 64 << 20

// changeOverhead is what a kept field costs besides its strings' bytes.
const changeOverhead = 48

// Recorder gathers the events of one run's writes, as the apply tells
// them. A nil Recorder (history off) ignores them. It is safe for
// concurrent use.
type Recorder struct {
	mu       gosync.Mutex
	max      int
	writes   []state.Event
	dropped  int
	bytes    int // of the field values kept
	maxBytes int // past it, fields are not kept (maxChangeBytes)
}

// NewRecorder returns a recorder keeping at most max writes (0:
// DefaultMaxEvents).
func NewRecorder(max int) *Recorder {
	if max <= 0 {
		max = DefaultMaxEvents
	}
	return &Recorder{max: max, maxBytes: maxChangeBytes}
}

// Add records an action's end: a write the CRM answered (done, refused,
// or stored otherwise than sent). An action not sent changed nothing and
// is not recorded.
func (r *Recorder) Add(res apply.Result) {
	if r == nil || res.Action == nil || res.NotSent != "" {
		return
	}
	a := res.Action
	e := state.Event{Reference: a.Reference, Kind: kindOf(a), Op: string(a.Op), Line: a.Line}
	if res.Err != nil {
		e.Kind, e.Status, e.Answer = state.EventRefused, res.Status, answer(res)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.writes) >= r.max {
		r.dropped++
		return
	}
	if r.bytes < r.maxBytes {
		e.Changes = changesOf(a)
		for _, ch := range e.Changes {
			r.bytes += len(ch.Field) + len(ch.Old) + len(ch.New) + changeOverhead
		}
	}
	r.writes = append(r.writes, e)
}

// changesOf is what an action changes, field by field: a create's
// fields that are not empty (read from its customer, not copied into
// plan.Action.FieldChanges's list of every field first), an update's
// changes.
func changesOf(a *plan.Action) []state.FieldChange {
	var out []state.FieldChange
	if a.Op == plan.OpCreate && a.Customer != nil && a.Changes == nil {
		n := 0
		for _, v := range a.Customer.All() {
			if v != "" {
				n++
			}
		}
		out = make([]state.FieldChange, 0, n) // one allocation, not a growing slice's five
		for f, v := range a.Customer.All() {
			if v != "" {
				out = append(out, state.FieldChange{Field: f, New: v})
			}
		}
		return out
	}
	for _, ch := range a.FieldChanges() {
		if ch.Old != ch.New {
			out = append(out, state.FieldChange{Field: ch.Field, Old: ch.Old, New: ch.New})
		}
	}
	return out
}

// answer is the CRM's answer to a write that failed: its code and
// message (for a value stored otherwise, what it stored).
func answer(res apply.Result) string {
	switch {
	case res.Code != "" && res.Message != "":
		return res.Code + ": " + res.Message
	case res.Message != "":
		return res.Message
	case res.Code != "":
		return res.Code
	}
	return res.Err.Error()
}

// kindOf is the event of a write done.
func kindOf(a *plan.Action) string {
	if a.Op == plan.OpUpdate && a.Reason == plan.ReasonReactivated {
		return state.EventReactivated // a deactivated customer's row back (sync.deletes: deactivate)
	}
	switch a.Op {
	case plan.OpCreate:
		return state.EventCreated
	case plan.OpDelete:
		return state.EventDeleted
	}
	return state.EventUpdated
}

// Run is what every event of a run says of it.
type Run struct {
	ID     int64
	File   string    // the export, as the run history names it
	At     time.Time // when the events are recorded
	Drift  []plan.Drift
	Policy string // sync.drift
	// RowErrors are the export's rows the run refused (the plan's, up to
	// reports.max_errors): those with a reference are its events.
	RowErrors []*mapping.RowError
	// Deactivate: the run's deletes were sent as isActive=false
	// (sync.deletes: deactivate, plan.Plan.Deactivate); they are
	// deactivations in the history, not deletes.
	Deactivate bool
}

// opDeactivate is the operation of a delete sent as isActive=false.
const opDeactivate = "deactivate"

// deactivated is a delete of a run whose deletes deactivate, as the
// history keeps it: deactivated (isActive true → false) when done; a
// refusal keeps its kind and answer, of a deactivate.
func deactivated(w state.Event) state.Event {
	w.Op = opDeactivate
	if w.Kind == state.EventDeleted {
		w.Kind = state.EventDeactivated
		w.Changes = []state.FieldChange{{Field: "isActive", Old: "true", New: "false"}}
	}
	return w
}

// Events returns the run's events: the drift it found first (it is older
// than the writes that repaired it), the rows it refused, its writes; and
// how many writes were dropped past the bound.
func (r *Recorder) Events(run Run) ([]state.Event, int) {
	if r == nil {
		return nil, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]state.Event, 0, len(run.Drift)+len(r.writes))
	drift := make(map[string][]state.FieldChange, len(run.Drift))
	for _, d := range run.Drift {
		e := state.Event{Reference: d.Reference, Kind: state.EventDrift, Policy: run.Policy}
		if d.Deleted {
			e.Kind = state.EventDeletedByHand
		}
		for _, ch := range d.Changes {
			e.Changes = append(e.Changes, state.FieldChange{Field: ch.Field, Old: ch.Old, New: ch.New})
		}
		drift[d.Reference] = e.Changes
		out = append(out, e)
	}
	for _, re := range run.RowErrors {
		if re.Reference == "" {
			continue
		}
		why := rowerrors.Text(re)
		if re.Column != "" {
			why = "column " + re.Column + ": " + why
		}
		out = append(out, state.Event{Reference: re.Reference, Kind: state.EventInvalidRow, Line: re.Line, Answer: why})
	}
	for _, w := range r.writes {
		if w.Kind == state.EventUpdated && len(w.Changes) == 0 {
			w.Changes = drift[w.Reference] // a repair of drift: the CRM's value → the ERP's
		}
		if run.Deactivate && w.Op == string(plan.OpDelete) {
			w = deactivated(w)
		}
		out = append(out, w)
	}
	for i := range out {
		out[i].RunID, out[i].File, out[i].At = run.ID, run.File, run.At
	}
	return out, r.dropped
}
