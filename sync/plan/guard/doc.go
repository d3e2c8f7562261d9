// Package guard is the vocabulary of the guards on a plan's size (issue
// 23 §3): a Limit, a count ("50") or a share of the managed customers
// ("5%"), as max_delete, max_failures and the optional guards are
// written; the guards' names as the config and run -accept write them;
// a guard accepted for one run; and Error, the stop of a run before its
// first write (exit 3).
//
// It checks nothing against a plan: sync/plan does (Guards.Check), with
// the limits read here. It imports none of the module's packages.
package guard
