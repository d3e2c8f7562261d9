// Package inbox is serve's inbox, beside sync/source: it picks the next
// export to sync from the files a pattern matches on any source (Inbox:
// the newest settled file, older ones archived as superseded), copies a
// remote one to the spool, holds an export a guard stopped (Hold, the
// Ledger that outlives restarts), rejects a file that can never be used,
// and archives what was synced. FileSHA256 hashes an export, never
// through a link: the run history ties an export to its runs by it.
package inbox
