package guard

// Guards on a whole plan (issue 23 §3): besides max_delete, how many
// creates, updates, cleared values and changes of the mapping's own
// making a run may send. Each is a count or a share of the managed
// customers, checked on the plan before the first write; a run that
// trips one stops (exit 3) with its plan listed and nothing sent, unless
// whoever runs it accepts that guard for that run (run -accept).

import (
	"fmt"
	"slices"
	"strings"
)

// The guards' names, as the config's keys and run -accept write them.
const (
	MaxDelete        = "max_delete"
	MaxCreate        = "max_create"
	MaxUpdate        = "max_update"
	MaxBlank         = "max_blank"
	MaxMappingChange = "max_mapping_change"
)

// Names are the guards run -accept may name, in the order they are
// checked.
var Names = []string{MaxDelete, MaxCreate, MaxUpdate, MaxBlank, MaxMappingChange}

// Optional is a guard's Limit, or none when Set is false (the key left
// empty: the guard is off).
type Optional struct {
	Limit
	Set bool
}

// On is a guard set to l.
func On(l Limit) Optional { return Optional{Limit: l, Set: true} }

// UnmarshalText reads "" (off), "50" or "5%".
func (g *Optional) UnmarshalText(b []byte) error {
	if strings.TrimSpace(string(b)) == "" {
		*g = Optional{}
		return nil
	}
	l, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*g = Optional{Limit: l, Set: true}
	return nil
}

// String is the limit as written, "" when off.
func (g Optional) String() string {
	if !g.Set {
		return ""
	}
	return g.Limit.String()
}

// Accepted is a guard that tripped and was let through for one run: by
// whom (user@host), with what the plan would have done.
type Accepted struct {
	Guard  string `json:"guard"`
	Detail string `json:"detail"`
	By     string `json:"by"`
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
		if !slices.Contains(Names, name) {
			return nil, fmt.Errorf("-accept %q: no such guard; the guards are %s", name, strings.Join(Names, ", "))
		}
		out[name] = true
	}
	return out, nil
}

// Error stops a run before its first write.
type Error struct {
	Guard  string
	Detail string
}

func (e *Error) Error() string { return e.Guard + ": " + e.Detail }

// GuardStop says that a guard stopped the run: the engine's guard class
// (exit 3).
func (e *Error) GuardStop() bool { return true }
