package refresh

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"erpsync/state"
	"erpsync/sync/plan"
)

// RecordReader returns a managed record, or nil for a reference erpsync
// never pushed.
type RecordReader interface {
	Get(ctx context.Context, ref string) (*state.Record, error)
}

// LastUpdatedReader returns the CRM's lastUpdated erpsync recorded of a
// managed reference; managed is false for one erpsync never pushed.
type LastUpdatedReader interface {
	CRMLastUpdated(ctx context.Context, ref string) (at time.Time, managed bool, err error)
}

// FindDrift compares the customers a refresh pulled with what erpsync last
// pushed. A customer erpsync never pushed is not ours and is ignored. It
// returns the drift, and what the CRM now holds of each managed customer
// (to remember once the run has finished).
func FindDrift(ctx context.Context, pulled *PullResult, cp RecordReader, countryCode func(string) (string, bool)) ([]plan.Drift, []state.Seen, error) {
	var drift []plan.Drift
	var seen []state.Seen
	for _, id := range slices.Sorted(maps.Keys(pulled.Customers)) {
		c := pulled.Customers[id]
		rec, err := cp.Get(ctx, c.Reference)
		if err != nil {
			return nil, nil, fmt.Errorf("read checkpoint of %s: %w", c.Reference, err)
		}
		if rec == nil {
			continue
		}
		fields := slices.Collect(maps.Keys(rec.Values))
		values := CRMValues(&c, fields, countryCode)
		if c.LastUpdated.Equal(rec.CRMLastUpdated) && len(Differences(rec.CRMValues, values)) == 0 {
			// The copy erpsync saw right after its own push: nothing new.
			// (Same lastUpdated but other values: edited by hand in the
			// second of the push.)
			continue
		}
		seen = append(seen, state.Seen{Reference: c.Reference, CRMID: c.ID, CRMLastUpdated: c.LastUpdated.Time, CRMValues: values})
		if changes := driftChanges(rec, values); len(changes) > 0 {
			drift = append(drift, plan.Drift{Reference: c.Reference, CRMID: c.ID, Changes: changes})
		}
	}
	return drift, seen, nil
}

// driftChanges lists the fields whose CRM value differs from what erpsync
// pushed, but for those the CRM now holds just as it answered right after
// the push: the CRM's own reading of a value (a dueDateConfigType name
// the reference does not show, say) is not a hand edit.
func driftChanges(rec *state.Record, now map[string]string) []plan.Change {
	var out []plan.Change
	for _, ch := range Differences(rec.Values, now) {
		if answered, ok := rec.CRMValues[ch.Field]; ok && answered == now[ch.Field] {
			continue
		}
		out = append(out, ch)
	}
	return out
}
