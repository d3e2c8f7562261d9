package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"erpsync/state"
)

// SyncedLast reports whether the last run recorded took this very export
// to the end: the same file (its name, as the run recorded it) with the
// same sha256, done or done with row failures, and no run of any export
// started since. The same size goes with the same sha256.
//
// Content alone is not a file's identity: day 1's bytes dropped again
// after day 2 must be synced again, or the CRM keeps day 2. A run that
// failed, was aborted or interrupted after it may have written part of
// its export: then the file is not the last synced either, and planning
// it again costs no write for its unchanged rows.
func (db *DB) SyncedLast(ctx context.Context, file, sha string) (bool, error) {
	var lastFile, lastSHA, status string
	err := db.ro.QueryRowContext(ctx, `SELECT file, file_sha256, status FROM runs ORDER BY id DESC LIMIT 1`).
		Scan(&lastFile, &lastSHA, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, db.fail("read runs", err)
	}
	finished := status == state.StatusDone || status == state.StatusDoneFailures
	return finished && lastFile == file && lastSHA == sha, nil
}
