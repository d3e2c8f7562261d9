package policy

import (
	"fmt"
	"maps"
	"slices"
)

// Policy says who owns a mapped field (sync.fields, issue 23 §1).
type Policy string

const (
	// ERP: the ERP's value is pushed; a hand edit is drift (the
	// default).
	ERP Policy = "erp"
	// CRM: sent when erpsync creates the customer, never on update;
	// a hand edit is not drift.
	CRM Policy = "crm"
	// Fill: sent only while the CRM's value is empty.
	Fill Policy = "fill"
	// Keep: an empty ERP cell never clears a non-empty CRM value; a
	// non-empty one is pushed as with erp.
	Keep Policy = "keep"
)

// Fields holds each field's policy; a field it does not name is erp's.
type Fields map[string]Policy

// Of returns a field's policy.
func (fs Fields) Of(field string) Policy {
	if p, ok := fs[field]; ok && p != "" {
		return p
	}
	return ERP
}

// Check refuses an unknown policy and a policy on a field that mapped
// does not hold (mapped reports whether a field is mapped), naming the
// key sync.fields.FIELD.
func (fs Fields) Check(mapped func(field string) bool) error {
	for _, f := range slices.Sorted(maps.Keys(fs)) {
		switch fs[f] {
		case ERP, CRM, Fill, Keep:
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
		if p != ERP && p != "" {
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
	case CRM:
		return true
	case Fill:
		return crm != ""
	case Keep:
		return erp == "" && crm != ""
	}
	return false
}

// Owned reports whether a field's policy is other than erp.
func (fs Fields) Owned() bool {
	for _, p := range fs {
		if p != ERP && p != "" {
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

// Deletes reports whether the mode sends deletes at all.
func (m Mode) Deletes() bool { return m == "" || m == ModeSync }

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

// DeleteMode says whether managed references absent from the export are
// deleted.
type DeleteMode string

const (
	DeletesNever  DeleteMode = "never"
	DeletesMirror DeleteMode = "mirror"
	// DeletesDeactivate plans the deletes of mirror, and the apply sends
	// each as isActive=false instead (sync/plan's Plan.Deactivate).
	DeletesDeactivate DeleteMode = "deactivate"
)

// Mirrors reports whether managed references absent from the export
// are deleted (or deactivated).
func (m DeleteMode) Mirrors() bool { return m == DeletesMirror || m == DeletesDeactivate }

// DriftPolicy says what to do with a customer edited by hand in the CRM.
type DriftPolicy string

const (
	DriftERPWins DriftPolicy = "erp_wins"
	DriftReport  DriftPolicy = "report"
)
