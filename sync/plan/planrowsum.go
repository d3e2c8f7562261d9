package plan

// Lazy rows (issue 14 §2): the plan reads the export with
// mapping.ReadLazy, which leaves the plain rows unmapped, with their row
// sum. A row whose sum is the one the checkpoint keeps for its reference
// is the row last pushed, read again: unchanged, with no mapping and no
// sha256. Any other row is mapped here and planned as before.

import (
	"strings"

	"erpsync/mapping"
	"erpsync/state"
)

// maxRowSums bounds the row sums a plan keeps for the checkpoint to fill
// in (Plan.RowSums): about 100 bytes each. A checkpoint older than row
// sums gets them over a few runs.
const maxRowSums = 200_000

// lazyCheck is how many lazy rows make a window the plan judges them by;
// lazyGiveUp the share of a window's rows mapped after all (1 in
// lazyGiveUp) at which it asks the read to map every row from then on:
// on the workers, where the plan maps them one after the other. A window
// at a time, so that a checkpoint whose first rows have sums (filled in
// by an earlier run) and the others not is judged where it changes.
const (
	lazyCheck  = 4096
	lazyGiveUp = 4
)

// sameRow takes a lazy row whose sum is the checkpoint's for its
// reference: counted unchanged, done. Otherwise it reports not done: the
// caller maps the row and plans it as any other. Rows the plan must see
// whole are never taken here: a reference met before (a duplicate),
// drifted in the CRM, or whose last push failed.
func (pl *planner) sameRow(r mapping.Row) (done bool, err error) {
	pl.lazyRows++
	k := pl.key(r.Reference)
	e, at, err := pl.lookupAt(r.Reference, k)
	if err != nil {
		return false, err
	}
	sum := pl.refs.SumAt(at)
	known := e.CP != 0 && sum != 0 && sum == r.Sum && e.Line == 0 &&
		!pl.opt.Retry[r.Reference] && pl.drifted[r.Reference] == ""
	if !known {
		pl.lazyMapped++
	}
	if pl.lazyRows == lazyCheck {
		if pl.lazyMapped > lazyCheck/lazyGiveUp {
			r.StopLazy() // a checkpoint without sums, an import
		}
		pl.lazyRows, pl.lazyMapped = 0, 0
	}
	if !known {
		return false, nil
	}
	pl.plan.Rows++
	pl.noteReference(r.Reference, r.Line, r.Parent)
	// The same row as pushed: its hash is the checkpoint's.
	e.Line, e.Row = int32(r.Line), uint32(e.CP>>32)|1 // counted unchanged
	pl.plan.Unchanged++
	pl.plan.SameBySum++
	pl.refs.SetAt(at, k, e)
	if r.Parent != "" { // as row does: waves and parents are checked by it
		pl.parentOf.Set(k, pl.key(r.Parent))
	}
	return true, nil
}

// keepRowSum notes the row sum of an unchanged plain row that the
// checkpoint holds without it, or with another (the same values from
// other cells): saved after a run, the next plan need not map the row.
func (pl *planner) keepRowSum(c *mapping.Customer, at int) {
	if c.RowSum == 0 || len(pl.plan.RowSums) >= maxRowSums {
		return
	}
	if pl.refs.SumAt(at) == c.RowSum {
		return
	}
	pl.plan.RowSums = append(pl.plan.RowSums, state.RowSum{
		Reference: strings.Clone(c.Reference), Hash: strings.Clone(c.Hash), Sum: c.RowSum})
}
