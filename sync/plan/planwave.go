package plan

// How the apply is given a plan's actions, wave by wave, the same way
// whether the plan is lean or not: SendUpserts, SendDeletes, Unsettled.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"

	"erpsync/mapping"
)

// ErrExportChanged is the failure of a lean plan's row that is no longer
// in the export as planned: the file changed between the plan and the
// apply. The row is not sent; the next run plans it again.
var ErrExportChanged = errors.New("the row changed in the export after it was planned (the file was replaced): not sent, the next run takes it")

var errStopRead = errors.New("stop reading")

// errWaveRead ends a read of the export once every row of a wave was met.
var errWaveRead = errors.New("every row of the wave met")

// Send schedules one action; done.Ended is to be called once the
// action's end was told (Action.Settle) after it was sent. It returns
// false when the wave must stop: what was not sent is then in Unsettled.
type Send func(act *Action, done Ender) bool

// Ender learns that a sent action has ended: a lean plan's row keeps its
// own end (leanRow), an action of a full plan is its own record (noEnd).
// Neither costs an allocation per action.
type Ender interface{ Ended(act *Action) }

// noEnd is the Ender of an action that is its own record.
type noEnd struct{}

func (noEnd) Ended(*Action) {}

// Ended marks the row's end as told once its action's was.
func (r *leanRow) Ended(act *Action) { r.settleFrom(act) }

// SendUpserts gives send the upserts of wave i (< UpsertWaves) not
// settled yet, in order, each with its customer. A lean plan's are made
// as a new read of the export (rows) meets their rows; one whose row is
// no longer in the export as planned goes to changed instead, which
// records it as failed (ErrExportChanged). An interruption (ctx) stops
// the read: what was not sent is in Unsettled.
func (p *Plan) SendUpserts(ctx context.Context, i int, rows Rows, send Send, changed func(*Action) error) error {
	if p.lean == nil {
		sendActions(p.Upserts[i], send)
		return nil
	}
	if rows == nil {
		return errors.New("apply: a lean plan needs apply.Options.Rows to read its rows")
	}
	return p.lean.reread(ctx, i, rows, send, changed)
}

// WaveLines says which lines of the export hold wave i's upserts, for
// the new read of a lean plan's wave (SendUpserts), which needs no other
// row mapped; safe for concurrent use. Nil when the plan is not lean.
func (p *Plan) WaveLines(i int) func(line int) bool {
	if p.lean == nil {
		return nil
	}
	start, end := p.lean.wave(i)
	lo, hi := math.MaxInt, -1
	for j := start; j < end; j++ {
		lo, hi = min(lo, int(p.lean.rows[j].line)), max(hi, int(p.lean.rows[j].line))
	}
	bits := make([]uint64, max(0, hi-lo)/64+1)
	for j := start; j < end; j++ {
		n := int(p.lean.rows[j].line) - lo
		bits[n/64] |= 1 << (n % 64)
	}
	return func(line int) bool {
		n := line - lo
		return line >= lo && line <= hi && bits[n/64]&(1<<(n%64)) != 0
	}
}

// SendDeletes gives send the deletes of wave i (of Deletes) not settled
// yet (a held delete is), in order.
func (p *Plan) SendDeletes(i int, send Send) { sendActions(p.Deletes[i], send) }

// sendActions gives send the actions not settled yet, until it says stop.
func sendActions(actions []*Action, send Send) {
	for _, act := range actions {
		if act.Settled() {
			continue
		}
		if !send(act, noEnd{}) {
			break
		}
	}
}

// Unsettled yields every action whose end was not told yet. A lean plan's
// upserts are made into Actions only for the rows not settled; each row
// is marked settled once its action is, after yield.
func (p *Plan) Unsettled() iter.Seq[*Action] {
	return func(yield func(*Action) bool) {
		if lp := p.lean; lp != nil {
			for i := range lp.rows {
				if lp.settled(i) {
					continue
				}
				act := lp.action(i)
				if !yield(act) {
					return
				}
				lp.rows[i].settleFrom(act)
			}
		}
		for _, w := range p.Upserts {
			if !yieldUnsettled(w, yield) {
				return
			}
		}
		for _, w := range p.Deletes {
			if !yieldUnsettled(w, yield) {
				return
			}
		}
	}
}

func yieldUnsettled(actions []*Action, yield func(*Action) bool) bool {
	for _, act := range actions {
		if !act.Settled() && !yield(act) {
			return false
		}
	}
	return true
}

// reread gives send the upserts of lean wave i as a new read of the
// export meets their rows. A wave is in the order of its lines, as the
// export is read: a cursor walks it, with no map of a million
// references. Each row's Action is made when its row is met, and goes
// once it is sent.
func (lp *leanPlan) reread(ctx context.Context, i int, rows Rows, send Send, changed func(*Action) error) error {
	start, end := lp.wave(i)
	w := waveReader{lp: lp, next: start, end: end, send: send, changed: changed}
	err := rows(w.row)
	switch {
	case errors.Is(err, errStopRead), ctx.Err() != nil:
		return nil // what was not sent is settled at the end
	case errors.Is(err, errWaveRead):
	case err != nil:
		return fmt.Errorf("read the export again: %w", err)
	}
	// The rows never met again: gone from the export since the plan.
	return w.changedUpTo(end)
}

// waveReader matches the rows of a new read of the export with a lean
// wave's rows, in line order.
type waveReader struct {
	lp      *leanPlan
	next    int // the first of the wave's rows not met yet
	end     int // where the wave ends in lp.rows
	send    Send
	changed func(*Action) error
}

// row takes one row of the new read.
func (w *waveReader) row(r mapping.Row) error {
	c := r.Customer
	if c == nil {
		return nil
	}
	// The actions before this line were not met: their rows changed.
	if err := w.changedUpTo(w.lineIndex(c.Line)); err != nil {
		return err
	}
	if w.next == w.end {
		return errWaveRead
	}
	if int(w.lp.rows[w.next].line) != c.Line {
		return nil // not a row of this wave
	}
	act, row := w.lp.action(w.next), &w.lp.rows[w.next]
	w.next++
	if c.Reference != act.Reference || hashPrefix(c.Hash)&^1 != act.rowHash() {
		err := w.changed(act)
		row.settleFrom(act)
		return err
	}
	act.Customer = c
	if !w.send(act, row) {
		return errStopRead
	}
	return nil
}

// lineIndex is the position of the first row from w.next on whose line
// is line or after.
func (w *waveReader) lineIndex(line int) int {
	i := w.next
	for i < w.end && int(w.lp.rows[i].line) < line {
		i++
	}
	return i
}

// changedUpTo gives changed the rows from w.next up to end: they are not
// in the export as planned.
func (w *waveReader) changedUpTo(end int) error {
	for ; w.next < end; w.next++ {
		act := w.lp.action(w.next)
		err := w.changed(act)
		w.lp.rows[w.next].settleFrom(act)
		if err != nil {
			return err
		}
	}
	return nil
}
