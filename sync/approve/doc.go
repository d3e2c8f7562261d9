// Package approve is a plan you can approve, then apply exactly (issue
// 23 §4). plan -out plan.json writes, beside the plan, an approval: what
// the plan depends on (the config it is of, the export's sha256, the
// mapping's fingerprint, the checkpoint's last run and watermark) and,
// for each action, the CRM lastUpdated it was planned against; the file
// ends with the sha256 of all that precedes it, so that an edit is found.
// erpsync apply reads it back (Read), refuses it when what it depends on
// moved (Approval.Moved), and sends only its actions (Approval.Index).
//
// It knows no SQL and no HTTP: the engine (package sync) gathers the
// figures, this package writes, reads and compares them.
package approve
