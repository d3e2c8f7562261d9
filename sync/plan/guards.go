package plan

// Guards on a whole plan (issue 23 §3): besides max_delete, how many
// creates, updates, cleared values and changes of the mapping's own
// making a run may send. Each is a count or a share of the managed
// customers, checked on the plan before the first write; a run that
// trips one stops (exit 3) with its plan listed and nothing sent, unless
// whoever runs it accepts that guard for that run (run -accept).

import (
	"fmt"
	"maps"
	"slices"

	"erpsync/sync/plan/guard"
)

// Limit is a guard.Limit (an alias for its many callers): max_failures,
// and what Options.MaxDelete holds when set.
type Limit = guard.Limit

// Optional is a limit or none (guard.Optional; guard.On sets one):
// Options.MaxDelete's type, whose zero value is off.
type Optional = guard.Optional

// Guards are the limits on a plan's size besides max_delete (which Build
// checks itself: Options.MaxDelete).
type Guards struct {
	MaxDelete        guard.Optional // as Options.MaxDelete: checked here when it was accepted; unset: off
	MaxCreate        guard.Optional
	MaxUpdate        guard.Optional
	MaxBlank         guard.Optional
	MaxMappingChange guard.Optional
}

// Check returns every guard the plan trips, in the order of guard.Names.
// A share is of the customers managed before the run; with none managed
// (a first run) only the counts apply. An import is not guarded: it
// never deletes and every row is a create.
func (g Guards) Check(p *Plan) []*guard.Error {
	var out []*guard.Error
	trip := func(name string, l Limit, n int, what string) {
		if l.IsPercent && p.Managed == 0 {
			return
		}
		if allowed := l.Of(p.Managed); n > allowed {
			out = append(out, &guard.Error{Guard: name, Detail: fmt.Sprintf(
				"the plan %s %d of %d managed customers, more than %s allows (%s = %d)"+guard.StoppedNote,
				what, n, p.Managed, name, l, allowed)})
		}
	}
	if g.MaxDelete.Set {
		trip(guard.MaxDelete, g.MaxDelete.Limit, p.sentDeletes(), "deletes")
	}
	if g.MaxCreate.Set {
		trip(guard.MaxCreate, g.MaxCreate.Limit, p.Count(OpCreate), "creates")
	}
	if g.MaxUpdate.Set {
		trip(guard.MaxUpdate, g.MaxUpdate.Limit, p.Count(OpUpdate), "updates")
	}
	if g.MaxBlank.Set {
		field, n := p.MostCleared()
		trip(guard.MaxBlank, g.MaxBlank.Limit, n, "clears "+field+" of")
	}
	if g.MaxMappingChange.Set && p.MappingChanged {
		trip(guard.MaxMappingChange, g.MaxMappingChange.Limit, p.MappingUpdates, "changes, with the mapping changed since the last run,")
	}
	return out
}

// sentDeletes counts the deletes that would be sent: not those held.
func (p *Plan) sentDeletes() int {
	n := 0
	for _, w := range p.Deletes {
		for _, a := range w {
			if a.Reason != ReasonAbsentHeld {
				n++
			}
		}
	}
	return n
}

// MostCleared returns the field whose value the most updates would clear
// (a value last pushed, sent empty now), and how many; "", 0 when none
// would. A lean plan's updates keep no changes: it is an import's, which
// is not guarded.
func (p *Plan) MostCleared() (field string, n int) {
	cleared := map[string]int{}
	for _, w := range p.Upserts {
		for _, a := range w {
			if a.Op != OpUpdate {
				continue
			}
			for _, c := range a.Changes {
				if c.Old != "" && c.New == "" {
					cleared[c.Field]++
				}
			}
		}
	}
	for _, f := range slices.Sorted(maps.Keys(cleared)) {
		if cleared[f] > n {
			field, n = f, cleared[f]
		}
	}
	return field, n
}
