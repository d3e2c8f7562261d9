// Package policy is the vocabulary of what a run may do to a customer
// (issue 23 §1, §2): who owns each mapped field (sync.fields: Fields, a
// Policy per field, checked against the mapping), what a run may send
// (sync.mode: Mode), and the rows a mode does not send (Skipped, with
// their reasons).
//
// It applies nothing to a plan: sync/plan does, and sync/apply leaves
// withheld fields out of the form. It imports none of the module's
// packages.
package policy
