package plan

// The fields' policies (sync.fields) and the run's mode (sync.mode)
// applied to a plan: their vocabulary is sync/plan/policy's.

import (
	"strings"

	"erpsync/mapping"
	"erpsync/sync/plan/policy"
	"erpsync/sync/plan/rowerrors"
)

// skip lists a row the mode does not send: the first MaxErrors are kept,
// all are counted (Plan.SkippedCount).
func (pl *planner) skip(c *mapping.Customer, reason string) {
	pl.plan.SkippedCount++
	if len(pl.plan.Skipped) < max(pl.opt.MaxErrors, rowerrors.DefaultMax) {
		pl.plan.Skipped = append(pl.plan.Skipped, policy.Skipped{Reference: strings.Clone(c.Reference), Line: c.Line, Reason: reason})
	}
}

// allowed reports whether the mode sends an upsert of op; one it does
// not is listed as skipped.
func (pl *planner) allowed(op Op, c *mapping.Customer) bool {
	switch {
	case op == OpCreate && pl.opt.Mode == policy.ModeUpdateOnly:
		pl.skip(c, policy.SkipNew)
		return false
	case op == OpUpdate && pl.opt.Mode == policy.ModeCreateOnly:
		pl.skip(c, policy.SkipChanged)
		return false
	case op == OpUpdate && pl.opt.Mode == policy.ModeUpdateOnly && pl.drifted[c.Reference] == ReasonDeletedByHand:
		pl.skip(c, policy.SkipGone) // its upsert would create it
		return false
	}
	return true
}

// upsertIf plans the upsert if the mode allows it (allowed).
func (pl *planner) upsertIf(op Op, c *mapping.Customer, reason string) {
	if pl.allowed(op, c) {
		pl.upsert(op, c, reason)
	}
}

// driftByPolicy keeps of the refresh's drift what the policies call
// drift: a crm field is the CRM's, and a fill field the CRM holds a value
// of is too. It keeps, for the fields it drops, what the CRM holds
// (crmNow), which decides whether a fill field is sent.
func (pl *planner) driftByPolicy(drift []Drift) []Drift {
	if !pl.opt.Fields.Owned() {
		return drift
	}
	out := make([]Drift, 0, len(drift))
	for _, d := range drift {
		var kept []Change
		for _, ch := range d.Changes {
			p := pl.opt.Fields.Of(ch.Field)
			if p != policy.ERP {
				if pl.crmNow[d.Reference] == nil {
					pl.crmNow[d.Reference] = map[string]string{}
				}
				pl.crmNow[d.Reference][ch.Field] = ch.Old
			}
			if p == policy.CRM || p == policy.Fill && ch.Old != "" {
				continue
			}
			kept = append(kept, ch)
		}
		if len(kept) == 0 && !d.Deleted {
			continue
		}
		d.Changes = kept
		out = append(out, d)
	}
	return out
}

// policyChanges lists the fields of an update to send, as fieldChanges
// does, under the fields' policies, and the fields it does not send
// (withheld). old are the values last pushed; the CRM's own value of a
// fill or keep field is the one the refresh saw, or else the one last
// pushed.
func (pl *planner) policyChanges(c *mapping.Customer, old map[string]string) (changes []Change, withheld []string) {
	if !pl.opt.Fields.Owned() {
		return fieldChanges(c, old), nil
	}
	now := pl.crmNow[c.Reference]
	for f, v := range c.All() {
		cur, seen := now[f]
		if !seen {
			cur = old[f]
		}
		if pl.opt.Fields.CRMOwns(f, v, cur) { // the CRM's value stands: not sent
			withheld = append(withheld, f)
			continue
		}
		if o, ok := old[f]; !ok || o != v {
			changes = append(changes, Change{Field: f, Old: o, New: v})
		}
	}
	return changes, withheld
}

// WithheldOf returns the fields an update of ref does not send under
// the fields' policies (sync.fields), or nil: the apply leaves them out
// of the form and records what the CRM answered for them.
func (p *Plan) WithheldOf(ref string) []string {
	return p.withheld[ref]
}
