package plan

// Guards on a whole plan (issue 23 §3): besides max_delete, how many
// creates, updates, cleared values and changes of the mapping's own
// making a run may send. Each is a count or a share of the managed
// customers, checked on the plan before the first write; a run that
// trips one stops (exit 3) with its plan listed and nothing sent, unless
// whoever runs it accepts that guard for that run (run -accept).

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The guards' names, as the config's keys and run -accept write them.
const (
	GuardMaxDelete        = "max_delete"
	GuardMaxCreate        = "max_create"
	GuardMaxUpdate        = "max_update"
	GuardMaxBlank         = "max_blank"
	GuardMaxMappingChange = "max_mapping_change"
)

// GuardNames are the guards run -accept may name, in the order they are
// checked.
var GuardNames = []string{GuardMaxDelete, GuardMaxCreate, GuardMaxUpdate, GuardMaxBlank, GuardMaxMappingChange}

// GuardLimit is a guard's Limit, or none when Set is false (the key left
// empty: the guard is off).
type GuardLimit struct {
	Limit
	Set bool
}

// UnmarshalText reads "" (off), "50" or "5%".
func (g *GuardLimit) UnmarshalText(b []byte) error {
	if strings.TrimSpace(string(b)) == "" {
		*g = GuardLimit{}
		return nil
	}
	l, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*g = GuardLimit{Limit: l, Set: true}
	return nil
}

// String is the limit as written, "" when off.
func (g GuardLimit) String() string {
	if !g.Set {
		return ""
	}
	return g.Limit.String()
}

// Guards are the limits on a plan's size besides max_delete (which Build
// checks itself: Options.MaxDelete).
type Guards struct {
	MaxDelete        Limit // as Options.MaxDelete: checked again here when it was accepted
	MaxCreate        GuardLimit
	MaxUpdate        GuardLimit
	MaxBlank         GuardLimit
	MaxMappingChange GuardLimit
}

// Accepted is a guard that tripped and was let through for one run: by
// whom (user@host), with what the plan would have done.
type Accepted struct {
	Guard  string `json:"guard"`
	Detail string `json:"detail"`
	By     string `json:"by"`
}

// Acceptable reports whether err is a guard's stop that run -accept (and
// so an approved plan) can let through: every guard it names is one of
// GuardNames. The empty export guard is not: its plan would stop on it
// again, so it is never written to wait for approval.
func Acceptable(err error) bool {
	var g *GuardError
	if !errors.As(err, &g) {
		return false
	}
	for name := range strings.SplitSeq(g.Guard, ",") {
		if !slices.Contains(GuardNames, name) {
			return false
		}
	}
	return true
}

// stoppedNote ends the detail of a guard that stops the run.
const stoppedNote = "; nothing was written"

// AcceptedOf is the record of a guard that tripped and was let through
// (run -accept, an approved plan): what it says, but that nothing was
// written.
func AcceptedOf(e *GuardError, by string) Accepted {
	return Accepted{Guard: e.Guard, By: by,
		Detail: strings.TrimSuffix(e.Detail, stoppedNote) + "; accepted for this run, which went on to write"}
}

// ParseAccept reads run -accept's list, "max_update,max_blank": each a
// guard's name. An unknown name is an error naming the known ones.
func ParseAccept(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(GuardNames, name) {
			return nil, fmt.Errorf("-accept %q: no such guard; the guards are %s", name, strings.Join(GuardNames, ", "))
		}
		out[name] = true
	}
	return out, nil
}

// Check returns every guard the plan trips, in the order of GuardNames.
// A share is of the customers managed before the run; with none managed
// (a first run) only the counts apply. An import is not guarded: it
// never deletes and every row is a create.
func (g Guards) Check(p *Plan) []*GuardError {
	var out []*GuardError
	trip := func(name string, l Limit, n int, what string) {
		if l.IsPercent && p.Managed == 0 {
			return
		}
		if allowed := l.Of(p.Managed); n > allowed {
			out = append(out, &GuardError{Guard: name, Detail: fmt.Sprintf(
				"the plan %s %d of %d managed customers, more than %s allows (%s = %d)"+stoppedNote,
				what, n, p.Managed, name, l, allowed)})
		}
	}
	trip(GuardMaxDelete, g.MaxDelete, p.sentDeletes(), "deletes")
	if g.MaxCreate.Set {
		trip(GuardMaxCreate, g.MaxCreate.Limit, p.Count(OpCreate), "creates")
	}
	if g.MaxUpdate.Set {
		trip(GuardMaxUpdate, g.MaxUpdate.Limit, p.Count(OpUpdate), "updates")
	}
	if g.MaxBlank.Set {
		field, n := p.MostCleared()
		trip(GuardMaxBlank, g.MaxBlank.Limit, n, "clears "+field+" of")
	}
	if g.MaxMappingChange.Set && p.MappingChanged {
		trip(GuardMaxMappingChange, g.MaxMappingChange.Limit, p.MappingUpdates, "changes, with the mapping changed since the last run,")
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
