package plan

// The order of the plan's writes: parents before sub-customers, parent
// cycles refused, deletes children first and within max_delete.

import (
	"context"
	"erpsync/mapping"
	"erpsync/sync/plan/policy"
	"erpsync/sync/plan/reference"
	"erpsync/sync/plan/refindex"
	"erpsync/sync/plan/rowerrors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// checkParents turns into row errors the upserts whose parent is nowhere
// (not in the export, not managed, not in the CRM) or that take part in a
// parent cycle. Only the upserts with a parent are looked at, in the
// order of their references.
func (pl *planner) checkParents() error {
	var names map[uint64]string // for the messages of cycles: made once one is met
	children := pl.children()
	rejected := false
	for _, a := range children {
		if cycle := pl.cycleFrom(a.Reference); cycle != nil {
			if names == nil {
				names = pl.parentNames()
			}
			pl.reject(a, "parentCustomer", fmt.Errorf("parent cycle: %s", cycleText(cycle, names)))
			rejected = true
			continue
		}
		ok, err := pl.parentAvailable(a.Parent)
		if err != nil {
			return err
		}
		if !ok {
			pl.reject(a, "parentCustomer", fmt.Errorf("parent %s is neither in the export nor in the CRM", mapping.Excerpt(a.Parent)))
			rejected = true
		}
	}
	// A child whose parent was just rejected cannot go either, unless the
	// parent already exists in the CRM. Skipped when the first loop
	// rejected nothing: every child's parent was available, and still is.
	for changed := rejected; changed; {
		changed = false
		for _, a := range children {
			if pl.dropped[a] {
				continue
			}
			ok, err := pl.parentAvailable(a.Parent)
			if err != nil {
				return err
			}
			if !ok {
				pl.reject(a, "parentCustomer", fmt.Errorf("parent %s cannot be created (see its row)", mapping.Excerpt(a.Parent)))
				changed = true
			}
		}
	}
	return nil
}

// children returns the planned upserts that have a parent, by reference.
func (pl *planner) children() []*Action {
	var out []*Action
	for a := range pl.actions() {
		if a.Parent != "" && a.Op != OpDelete {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *Action) int { return strings.Compare(a.Reference, b.Reference) })
	return out
}

// parentNames returns, for the messages of parent cycles, the planned
// references that are some row's parent, by key. A lean plan's drafts
// are not among them: with no parent, a draft is on no cycle.
func (pl *planner) parentNames() map[uint64]string {
	parents := make(map[uint64]bool, pl.parentOf.Len())
	for p := range pl.parentOf.Parents() {
		parents[p] = true
	}
	names := map[uint64]string{}
	for a := range pl.actions() {
		if k := pl.key(a.Reference); parents[k] {
			names[k] = a.Reference
		}
	}
	return names
}

// parentAvailable reports whether a parent is planned, managed or in the
// CRM. The CRM is asked once per parent; an error of that question (auth,
// an unreachable CRM, an interruption) stops the plan, rather than
// turning the children into row errors.
func (pl *planner) parentAvailable(ref string) (bool, error) {
	if pl.exists(ref) {
		return true, nil
	}
	if pl.opt.ParentInCRM == nil {
		return false, nil
	}
	if ok, asked := pl.inCRM[ref]; asked {
		return ok, nil
	}
	ok, err := pl.opt.ParentInCRM(ref)
	if err != nil {
		return false, fmt.Errorf("ask the CRM for parent %s: %w", ref, err)
	}
	pl.inCRM[ref] = ok
	return ok, nil
}

// cycleFrom returns the cycle that ref's parent chain runs into when ref is
// part of it, as keys from ref's own, else nil.
func (pl *planner) cycleFrom(ref string) []uint64 {
	start := pl.key(ref)
	path := []uint64{start}
	cur, _ := pl.parentOf.Get(start)
	for hops := 0; cur != 0 && hops <= pl.parentOf.Len(); hops++ {
		path = append(path, cur)
		if cur == start {
			return path
		}
		next, ok := pl.parentOf.Get(cur)
		if !ok {
			return nil
		}
		cur = next
	}
	return nil
}

// maxCycleShown is how many references of a parent cycle its error names:
// a cycle through every row would name them all, in every row's error.
const maxCycleShown = 6

// cycleText writes a parent cycle, its first references and its last
// (the first again) when it is long, the others counted; references not
// planned are shown as "…".
func cycleText(cycle []uint64, names map[uint64]string) string {
	name := func(k uint64) string {
		if n, ok := names[k]; ok {
			return rowerrors.CutCell(n)
		}
		return "…"
	}
	shown := make([]string, 0, maxCycleShown+2)
	for i, k := range cycle {
		if i == maxCycleShown-1 && len(cycle) > maxCycleShown {
			shown = append(shown, fmt.Sprintf("… %d more", len(cycle)-maxCycleShown))
			shown = append(shown, name(cycle[len(cycle)-1]))
			break
		}
		shown = append(shown, name(k))
	}
	return strings.Join(shown, " → ")
}

// exists reports whether a parent is, or will be, in the CRM after the
// upserts: managed, or planned for an upsert.
func (pl *planner) exists(ref string) bool {
	e := pl.entryOf(ref)
	if e.CP != 0 {
		return true
	}
	a, d := pl.plannedAt(ref, e)
	return a != nil && a.Op != OpDelete || d >= 0
}

// upsertWaves orders the upserts: wave n holds the customers whose chain
// of planned parents is n long, each wave in the order of the lines.
func (pl *planner) upsertWaves() [][]*Action {
	parents := pl.plannedParents()
	if pl.opt.ImportOnly {
		// Nothing reads the index after this: its million entries can go
		// before the waves are built (the peak of an import's plan).
		pl.refs = refindex.Index{}
		pl.parentOf.Clear()
	}
	depth := map[*Action]int{} // of the upserts with a planned parent
	limit := pl.planning()
	var depthOf func(a *Action, hops int) int
	depthOf = func(a *Action, hops int) int {
		pa := parents[a]
		if pa == nil {
			return 0
		}
		if d, ok := depth[a]; ok {
			return d
		}
		d := 0
		if hops < limit {
			d = depthOf(pa, hops+1) + 1
		}
		depth[a] = d
		return d
	}
	var waves [][]*Action
	for a := range pl.actions() {
		if a.Op == OpDelete {
			continue
		}
		d := depthOf(a, 0)
		for len(waves) <= d {
			waves = append(waves, nil)
		}
		waves[d] = append(waves[d], a)
	}
	return waves
}

// plannedParents returns, for each upsert whose parent is planned for an
// upsert too, that parent's action: aDraft when it is a draft, of the
// first wave (it has no parent).
func (pl *planner) plannedParents() map[*Action]*Action {
	parents := map[*Action]*Action{}
	for a := range pl.actions() {
		if a.Parent == "" || a.Op == OpDelete {
			continue
		}
		pa, d := pl.plannedAt(a.Parent, pl.entryOf(a.Parent))
		switch {
		case pa != nil && pa.Op != OpDelete:
			parents[a] = pa
		case d >= 0:
			parents[a] = aDraft
		}
	}
	return parents
}

// aDraft stands for a draft as the parent of an upsert (plannedParents):
// no parent of its own, so of depth 0.
var aDraft = &Action{Op: OpCreate}

// absentReason is the reason of a mirror delete: absent from the export,
// or held when a row's reference is missing or unusable (issue 21 §2): that
// row may be any customer, so none can be known absent.
func (pl *planner) absentReason() string {
	if len(pl.unknown) == 0 || pl.opt.DeleteDespiteRowErrors {
		if pl.opt.Deletes == policy.DeletesDeactivate {
			return ReasonAbsentDeactivate
		}
		return ReasonAbsent
	}
	return ReasonAbsentHeld
}

// flaggedReason is the reason of a flagged delete, saying when it is
// sent as isActive=false.
func (pl *planner) flaggedReason() string {
	if pl.opt.Deletes == policy.DeletesDeactivate {
		return ReasonFlagged + deactivateNote
	}
	return ReasonFlagged
}

// heldWhy says why the mirror deletes are held, naming the first lines
// of the rows without a usable reference (Plan.DeletesHeld).
func (pl *planner) heldWhy() string {
	lines := slices.Sorted(slices.Values(pl.unknown)) // the first lines (maxUnknownLines)
	shown := make([]string, 0, len(lines))
	for _, l := range lines {
		shown = append(shown, strconv.Itoa(l))
	}
	more := ""
	if pl.unknownRows > len(lines) {
		more = fmt.Sprintf(" and %d more", pl.unknownRows-len(lines))
	}
	rows := "1 row"
	if pl.unknownRows > 1 {
		rows = strconv.Itoa(pl.unknownRows) + " rows"
	}
	return fmt.Sprintf("%s without a usable reference (line %s%s): erpsync cannot know which "+
		"customers are absent from the export; fix those rows, or set sync.delete_despite_row_errors: true",
		rows, strings.Join(shown, ", "), more)
}

// planDeletes adds the flagged deletes and, in mirror mode, the managed
// references absent from the export; sub-customers go before parents.
func (pl *planner) planDeletes(ctx context.Context, cp Checkpoint) error {
	var dels []*Action
	for a := range pl.actions() {
		if a.Op == OpDelete {
			dels = append(dels, a)
		}
	}
	if pl.opt.Deletes.Mirrors() && pl.opt.Mode.Deletes() {
		reason := pl.absentReason()
		err := cp.Hashes(ctx, func(ref, _ string) error {
			if e := pl.entryOf(ref); e.CP != 0 && e.Line == 0 {
				if err := reference.Check(ref); err != nil {
					// Managed before the check existed: its path could
					// reach another route, so it is never deleted by it.
					pl.rowError(&mapping.RowError{File: pl.opt.File,
						Column: "reference", Reference: strings.Clone(ref), Err: fmt.Errorf("not deleted: %w", err)})
					pl.plan.NotDeleted++
					return nil
				}
				dels = append(dels, &Action{Op: OpDelete, Reference: ref, Reason: reason})
				if reason == ReasonAbsentHeld {
					pl.held++
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		if pl.held > 0 {
			pl.plan.DeletesHeld = pl.heldWhy()
		}
	}
	// Each delete's parent, from its record's values, many a statement on
	// every core (eachPushed): a day-2 plan of a million rows deletes
	// 5,000, after the export is read.
	refs := make([]string, len(dels))
	for i, a := range dels {
		refs[i] = a.Reference
	}
	err := eachPushed(ctx, cp, refs, func(i int, vals map[string]string) error {
		dels[i].Parent = vals["parentCustomer"]
		return nil
	})
	if err != nil {
		return err
	}
	inSet := map[string]*Action{}
	for _, a := range dels {
		inSet[a.Reference] = a
	}
	// height: 0 for a delete with no sub-customer being deleted, else one
	// more than its highest such sub-customer.
	height := map[string]int{}
	for _, a := range dels {
		for p, hops := a.Parent, 1; p != "" && hops <= len(dels); hops++ {
			pa, ok := inSet[p]
			if !ok {
				break
			}
			height[p] = max(height[p], hops)
			p = pa.Parent
		}
	}
	for _, a := range dels {
		h := height[a.Reference]
		for len(pl.plan.Deletes) <= h {
			pl.plan.Deletes = append(pl.plan.Deletes, nil)
		}
		pl.plan.Deletes[h] = append(pl.plan.Deletes[h], a)
	}
	for _, w := range pl.plan.Deletes {
		slices.SortFunc(w, func(a, b *Action) int { return strings.Compare(a.Reference, b.Reference) })
	}
	return nil
}
