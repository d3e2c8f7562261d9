package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/plan/policy"
	"erpsync/sync/refresh"
)

// deactivated is plan.Options.Deactivated for a run whose deletes
// deactivate (nil otherwise, and for a checkpoint that keeps no copies):
// a reference the checkpoint no longer manages is one erpsync
// deactivated when its newest audit copy says isActive=false (the copy
// deactivate keeps, sync/apply/policy.go); the plan then takes the
// copy's values of the fields whose policy is not erp as the CRM's.
// One lookup per row the checkpoint does not manage (an index read).
func (j Job) deactivated() func(ctx context.Context, ref string) (map[string]string, bool, error) {
	cp := apply.ReadThrough(j.State) // a dry run reads through: it plans as the run would
	in, ok := cp.(state.Inspector)
	if !ok || j.Mode == ModeImport || j.Settings.Deletes != policy.DeletesDeactivate {
		return nil
	}
	owned := slices.Sorted(maps.Keys(j.Settings.Fields.Declared()))
	return func(ctx context.Context, ref string) (map[string]string, bool, error) {
		copies, err := in.DeletedCopies(ctx, ref)
		if err != nil || len(copies) == 0 {
			return nil, false, err
		}
		var c crm.Customer
		if err := json.Unmarshal(copies[0].Copy, &c); err != nil {
			return nil, false, fmt.Errorf("read the audit copy of %s: %w", ref, err)
		}
		if c.IsActive {
			return nil, false, nil // deleted, not deactivated
		}
		return refresh.CRMValues(&c, owned, mapping.CountryCode), true, nil
	}
}
