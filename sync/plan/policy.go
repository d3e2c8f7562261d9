package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"erpsync/mapping"
)

// Policy says who owns a mapped field (sync.fields, issue 23 §1).
type Policy string

const (
	// PolicyERP: the ERP's value is pushed; a hand edit is drift (the
	// default).
	PolicyERP Policy = "erp"
	// PolicyCRM: sent when erpsync creates the customer, never on update;
	// a hand edit is not drift.
	PolicyCRM Policy = "crm"
	// PolicyFill: sent only while the CRM's value is empty.
	PolicyFill Policy = "fill"
	// PolicyKeep: an empty ERP cell never clears a non-empty CRM value; a
	// non-empty one is pushed as with erp.
	PolicyKeep Policy = "keep"
)

// Fields holds each field's policy; a field it does not name is erp's.
type Fields map[string]Policy

// Of returns a field's policy.
func (fs Fields) Of(field string) Policy {
	if p, ok := fs[field]; ok && p != "" {
		return p
	}
	return PolicyERP
}

// Check refuses an unknown policy and a policy on a field that mapped
// does not hold (mapped reports whether a field is mapped), naming the
// key sync.fields.FIELD.
func (fs Fields) Check(mapped func(field string) bool) error {
	for _, f := range slices.Sorted(maps.Keys(fs)) {
		switch fs[f] {
		case PolicyERP, PolicyCRM, PolicyFill, PolicyKeep:
		default:
			return fmt.Errorf("sync.fields.%s %q: want erp, crm, fill or keep", f, fs[f])
		}
		if f == "reference" {
			return fmt.Errorf("sync.fields.%s: the reference names the customer, it is always the ERP's", f)
		}
		if !mapped(f) {
			return fmt.Errorf("sync.fields.%s: the field is not mapped (source.columns)", f)
		}
	}
	return nil
}

// Declared returns the policies that change what is pushed, as the
// mapping's fingerprint takes them (mapping.Config.Policies): every field
// whose policy is not erp. A customer's record then compares as changed
// when one changes, and is sent only if its pushed values differ.
func (fs Fields) Declared() map[string]string {
	out := map[string]string{}
	for f, p := range fs {
		if p != PolicyERP && p != "" {
			out[f] = string(p)
		}
	}
	return out
}

// CRMOwns reports whether the CRM's value of a field stands under its
// policy, whatever the ERP's: always for crm, once filled for fill, and
// over an empty cell for keep. Such a value is no difference.
func (fs Fields) CRMOwns(field, erp, crm string) bool {
	switch fs.Of(field) {
	case PolicyCRM:
		return true
	case PolicyFill:
		return crm != ""
	case PolicyKeep:
		return erp == "" && crm != ""
	}
	return false
}

// owned reports whether a field's policy is other than erp.
func (fs Fields) owned() bool {
	for _, p := range fs {
		if p != PolicyERP && p != "" {
			return true
		}
	}
	return false
}

// Mode says what a run may do (sync.mode, issue 23 §2).
type Mode string

const (
	ModeSync       Mode = "sync"        // upserts, and deletes as sync.deletes says (the default)
	ModeUpsert     Mode = "upsert"      // creates and updates, never a delete
	ModeUpdateOnly Mode = "update_only" // updates only: a new row is skipped
	ModeCreateOnly Mode = "create_only" // creates only: a changed row is skipped
)

// Check refuses an unknown mode.
func (m Mode) Check() error {
	switch m {
	case "", ModeSync, ModeUpsert, ModeUpdateOnly, ModeCreateOnly:
		return nil
	}
	return fmt.Errorf("sync.mode %q: want sync, upsert, update_only or create_only", m)
}

// deletes reports whether the mode sends deletes at all.
func (m Mode) deletes() bool { return m == "" || m == ModeSync }

// Why a row is skipped by the mode.
const (
	SkipNew     = "new customer, not created: sync.mode is update_only"
	SkipChanged = "changed customer, not updated: sync.mode is create_only"
	SkipGone    = "deleted by hand in the CRM, not created again: sync.mode is update_only"
)

// Skipped is a row the mode does not send.
type Skipped struct {
	Reference string `json:"reference"`
	Line      int    `json:"line"`
	Reason    string `json:"reason"`
}

// skip lists a row the mode does not send: the first MaxErrors are kept,
// all are counted (Plan.SkippedCount).
func (pl *planner) skip(c *mapping.Customer, reason string) {
	pl.plan.SkippedCount++
	if len(pl.plan.Skipped) < max(pl.opt.MaxErrors, DefaultMaxErrors) {
		pl.plan.Skipped = append(pl.plan.Skipped, Skipped{Reference: strings.Clone(c.Reference), Line: c.Line, Reason: reason})
	}
}

// allowed reports whether the mode sends an upsert of op; one it does
// not is listed as skipped.
func (pl *planner) allowed(op Op, c *mapping.Customer) bool {
	switch {
	case op == OpCreate && pl.opt.Mode == ModeUpdateOnly:
		pl.skip(c, SkipNew)
		return false
	case op == OpUpdate && pl.opt.Mode == ModeCreateOnly:
		pl.skip(c, SkipChanged)
		return false
	case op == OpUpdate && pl.opt.Mode == ModeUpdateOnly && pl.drifted[c.Reference] == ReasonDeletedByHand:
		pl.skip(c, SkipGone) // its upsert would create it
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
	if !pl.opt.Fields.owned() {
		return drift
	}
	out := make([]Drift, 0, len(drift))
	for _, d := range drift {
		var kept []Change
		for _, ch := range d.Changes {
			if pl.opt.Fields.Of(ch.Field) != PolicyERP {
				if pl.crmNow[d.Reference] == nil {
					pl.crmNow[d.Reference] = map[string]string{}
				}
				pl.crmNow[d.Reference][ch.Field] = ch.Old
			}
			switch p := pl.opt.Fields.Of(ch.Field); {
			case p == PolicyCRM, p == PolicyFill && ch.Old != "":
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
	if !pl.opt.Fields.owned() {
		return fieldChanges(c, old), nil
	}
	now := pl.crmNow[c.Reference]
	for f, v := range c.All() {
		cur, seen := now[f]
		if !seen {
			cur = old[f]
		}
		send := true
		switch pl.opt.Fields.Of(f) {
		case PolicyCRM:
			send = false
		case PolicyFill:
			send = cur == ""
		case PolicyKeep:
			send = v != "" || cur == ""
		}
		if !send {
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
