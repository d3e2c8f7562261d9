package plan

import (
	"fmt"

	"erpsync/mapping"
)

// createOrReactivate plans a row the checkpoint does not manage: a
// create, or the reactivation of a customer erpsync deactivated (an
// update: the CRM holds it, and its owned fields are the CRM's).
func (pl *planner) createOrReactivate(c *mapping.Customer) error {
	if pl.opt.Deactivated == nil || pl.opt.ImportOnly {
		pl.upsertIf(OpCreate, c, ReasonNew)
		return nil
	}
	crmVals, ok, err := pl.opt.Deactivated(pl.ctx, c.Reference)
	if err != nil {
		return fmt.Errorf("read deactivated copy of %s: %w", c.Reference, err)
	}
	if !ok {
		pl.upsertIf(OpCreate, c, ReasonNew)
		return nil
	}
	if len(crmVals) > 0 {
		pl.crmNow[c.Reference] = crmVals
	}
	pl.upsertIf(OpUpdate, c, ReasonReactivated)
	return nil
}
