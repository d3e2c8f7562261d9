package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Run is one entry of the run history.
type Run struct {
	ID         int64
	Kind       string // run | import
	File       string
	FileSHA256 string
	Status     string // running, done, done with failures, aborted, failed, interrupted
	Started    time.Time
	Ended      time.Time
	Counts     map[string]int
	Error      string
}

// Statuses of a run that took its export to the end.
const (
	StatusRunning      = "running"
	StatusDone         = "done"
	StatusDoneFailures = "done with failures"
)

// StartRun records a run's start and returns its id.
func (db *DB) StartRun(ctx context.Context, kind, file, sha string) (int64, error) {
	res, err := db.db.ExecContext(ctx, `INSERT INTO runs (kind, file, file_sha256, status, started) VALUES (?, ?, ?, ?, ?)`,
		kind, file, sha, StatusRunning, db.Now().Unix())
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	return res.LastInsertId()
}

// FinishRun records a run's end.
func (db *DB) FinishRun(ctx context.Context, id int64, status string, counts map[string]int, errText string) error {
	c, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	if counts == nil {
		c = []byte("{}")
	}
	_, err = db.db.ExecContext(ctx, `UPDATE runs SET status = ?, ended = ?, counts = ?, error = ? WHERE id = ?`,
		status, db.Now().Unix(), string(c), errText, id)
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	return nil
}

// Runs returns the last runs, newest first.
func (db *DB) Runs(ctx context.Context, limit int) ([]Run, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, kind, file, file_sha256, status, started, ended, counts, error
		FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, ended int64
		var counts string
		if err := rows.Scan(&r.ID, &r.Kind, &r.File, &r.FileSHA256, &r.Status, &started, &ended, &counts, &r.Error); err != nil {
			return nil, err
		}
		r.Started, r.Ended = fromUnix(started), fromUnix(ended)
		if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
			return nil, fmt.Errorf("counts of run %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ProcessedFile reports whether a run took an export with this sha256 to
// the end (done, or done with row failures). A run that was aborted,
// failed or interrupted does not count: the export is still to do.
func (db *DB) ProcessedFile(ctx context.Context, sha string) (bool, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE file_sha256 = ? AND status IN (?, ?)`,
		sha, StatusDone, StatusDoneFailures).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read runs: %w", err)
	}
	return n > 0, nil
}
