package history

import (
	"context"
	"sync/atomic"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/plan"
	"erpsync/sync/plan/rowerrors"
)

// DefaultMaxEvents bounds the writes a Recorder makes events of in one
// run: a migration import of millions of rows keeps the first ones and
// counts the others, so that its history stays bounded (some 30 MB of
// events and maxChangeBytes of their fields).
const DefaultMaxEvents = 200_000

// maxChangeBytes bounds the bytes of field values a Recorder keeps of one
// run (a million creates list every field of each): past it, an event
// keeps its reference, line and answer, not its fields.
const maxChangeBytes = 64 << 20

// changeOverhead is what a kept field costs besides its strings' bytes.
const changeOverhead = 48

// Recorder makes the events of one run: its own (the drift it found, the
// rows it refused: Begin) and one per write the apply tells of (Event),
// each handed to the checkpoint's writer with the outcome it describes
// (state.Outcome.History), so that a run's events are saved iff its
// outcomes are, in their transactions, not at the run's end. A nil
// Recorder (history off) makes none. It is safe for concurrent use.
type Recorder struct {
	run      Run
	drift    map[string][]state.FieldChange // the drift found, by reference: what a repair changes
	max      int64
	writes   atomic.Int64 // writes told, kept or not
	bytes    atomic.Int64 // of the field values kept
	maxBytes int64        // past it, fields are not kept (maxChangeBytes)
}

// NewRecorder returns the recorder of a run, making events of at most
// max writes (0: DefaultMaxEvents).
func NewRecorder(max int, run Run) *Recorder {
	if max <= 0 {
		max = DefaultMaxEvents
	}
	return &Recorder{run: run, max: int64(max), maxBytes: maxChangeBytes}
}

// Event is the event of an action's end, as the outcome that records it
// carries it: a write the CRM answered (done, refused, or stored
// otherwise than sent). An action not sent changed nothing: none; nor
// past the recorder's bound (Dropped counts them).
func (r *Recorder) Event(res apply.Result) []state.Event {
	if r == nil || res.Action == nil || res.NotSent != "" {
		return nil
	}
	if r.writes.Add(1) > r.max {
		return nil
	}
	a := res.Action
	e := state.Event{Reference: a.Reference, RunID: r.run.ID, At: r.run.At, Kind: kindOf(a), Op: string(a.Op),
		File: r.run.File, Line: a.Line}
	if res.Err != nil {
		e.Kind, e.Status, e.Answer = state.EventRefused, res.Status, answer(res)
	}
	if r.bytes.Load() < r.maxBytes {
		e.Changes = changesOf(a)
		n := 0
		for _, ch := range e.Changes {
			n += len(ch.Field) + len(ch.Old) + len(ch.New) + changeOverhead
		}
		r.bytes.Add(int64(n))
	}
	if e.Kind == state.EventUpdated && len(e.Changes) == 0 {
		e.Changes = r.drift[e.Reference] // a repair of drift: the CRM's value → the ERP's
	}
	if r.run.Deactivate && e.Op == string(plan.OpDelete) {
		e = deactivated(e)
	}
	return []state.Event{e}
}

// Dropped is how many writes the recorder made no event of, past its
// bound.
func (r *Recorder) Dropped() int {
	if r == nil {
		return 0
	}
	return int(max(0, r.writes.Load()-r.max))
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
	changes := a.FieldChanges()
	out = make([]state.FieldChange, 0, len(changes)) // one allocation, not a growing slice's (most of the recorder's CPU)
	for _, ch := range changes {
		if ch.Old != ch.New {
			out = append(out, state.FieldChange{Field: ch.Field, Old: ch.Old, New: ch.New})
		}
	}
	if len(out) == 0 {
		return nil
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
	At     time.Time // when the run's events are made (its apply's start)
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

// Begin returns the run's own events, saved before its writes' (the
// drift is older than the writes that repaired it): the drift it found,
// then the rows it refused. Call it before the first Event.
func (r *Recorder) Begin() []state.Event {
	if r == nil {
		return nil
	}
	run := r.run
	out := make([]state.Event, 0, len(run.Drift))
	r.drift = make(map[string][]state.FieldChange, len(run.Drift))
	for _, d := range run.Drift {
		e := state.Event{Reference: d.Reference, Kind: state.EventDrift, Policy: run.Policy}
		if d.Deleted {
			e.Kind = state.EventDeletedByHand
		}
		for _, ch := range d.Changes {
			e.Changes = append(e.Changes, state.FieldChange{Field: ch.Field, Old: ch.Old, New: ch.New})
		}
		r.drift[d.Reference] = e.Changes
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
	for i := range out {
		out[i].RunID, out[i].File, out[i].At = run.ID, run.File, run.At
	}
	return out
}

// RunOf is what every event of a run of plan p says of it, made at at
// (p nil: a run stopped before its plan).
func RunOf(p *plan.Plan, id int64, file string, at time.Time, policy string) Run {
	run := Run{ID: id, File: file, At: at, Policy: policy}
	if p != nil {
		run.Drift, run.RowErrors, run.Deactivate = p.Drift, p.RowErrors, p.Deactivate
	}
	return run
}

// Start queues in the checkpoint's writer, as the run's apply starts and
// before any outcome, the run's own events (the drift it found, the rows
// it refused: Begin). Each event is then saved in the transaction of the
// outcomes it goes with (Event), off the run's end.
func (r *Recorder) Start(ctx context.Context, w *state.Writer) error {
	return w.PutHistory(ctx, r.Begin())
}

// End is the history's part of a run's end: it prunes the events before
// keep; a run stopped before its apply (rec nil: a guard) saves its own
// events there, in the same transaction. It returns how many it pruned.
func End(ctx context.Context, h state.HistoryKeeper, rec *Recorder, run Run, keep time.Duration) (int, error) {
	var events []state.Event
	if rec == nil {
		events = NewRecorder(0, run).Begin()
	}
	return h.SaveHistory(ctx, events, run.At.Add(-keep))
}
