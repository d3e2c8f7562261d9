package sync_test

import (
	"testing"

	"erpsync/sync/internal/testrig"
)

// TestApply_NothingUnansweredRecordedOnSQLite: apply's guarantee that
// nothing unanswered is recorded (TestApply_FatalErrorCancelsWave, run
// there on memstate only: apply's binary links no SQLite) shown on the
// SQLite checkpoint and its batched writer, which this binary links.
func TestApply_NothingUnansweredRecordedOnSQLite(t *testing.T) {
	t.Parallel() // its own crmsim and checkpoint file
	testrig.CRMGoesAway(t, testrig.SQLite)
}
