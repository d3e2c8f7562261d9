package reconcile

import (
	"context"
	"encoding/json"
	"fmt"

	"erpsync/state"
)

// deactivated counts ref as StatusDeactivated, and reports so, when
// erpsync deactivated it: the checkpoint manages it no more and its
// newest audit copy says isActive=false (the copy sync.deletes:
// deactivate keeps, sync/apply/policy.go). The caller has seen the CRM
// hold it inactive, absent from the export. A checkpoint that keeps no
// copies knows of none.
func (j *judge) deactivated(ctx context.Context, ref string) (bool, error) {
	in, ok := j.cp.(state.Inspector)
	if !ok || in == nil {
		return false, nil
	}
	if rec, err := j.cp.Get(ctx, ref); err != nil || rec != nil {
		return false, err
	}
	copies, err := in.DeletedCopies(ctx, ref)
	if err != nil || len(copies) == 0 {
		return false, err
	}
	var left struct {
		IsActive *bool `json:"isActive"`
	}
	if err := json.Unmarshal(copies[0].Copy, &left); err != nil {
		return false, fmt.Errorf("read the audit copy of %s: %w", ref, err)
	}
	if left.IsActive == nil || *left.IsActive {
		return false, nil // deleted, then created again in the CRM
	}
	j.res.count(&Item{Reference: ref, Status: StatusDeactivated, Managed: false, Reason: ReasonDeactivated,
		Explanation: "deactivated by erpsync (sync.deletes: deactivate): removed in the ERP, kept inactive in the CRM"})
	return true, nil
}
