// Package rowerrors bounds what a plan keeps of its row errors and
// warnings (reports.max_errors): a Set keeps the first ones whole and
// counts every one by Kind (its column and its message with the values
// elided), so that an export of millions of bad rows costs no more than
// DefaultMax of them. Text and CutCell are how a row error and a
// reference are written in a report.
//
// It imports only mapping (mapping.RowError).
package rowerrors
