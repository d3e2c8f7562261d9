package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"erpsync/state"
)

// StartRun records a run's start (status running) and returns its id.
func (db *DB) StartRun(ctx context.Context, kind, file, sha string) (int64, error) {
	res, err := db.rw.ExecContext(ctx, `INSERT INTO runs (kind, file, file_sha256, status, started) VALUES (?, ?, ?, ?, ?)`,
		kind, file, sha, state.StatusRunning, db.Now().Unix())
	if err != nil {
		return 0, db.fail("record run start", err)
	}
	return res.LastInsertId()
}

// NoteRunSHA records the sha256 of a run's export, hashed while it ran.
func (db *DB) NoteRunSHA(ctx context.Context, id int64, sha string) error {
	if _, err := db.rw.ExecContext(ctx, `UPDATE runs SET file_sha256 = ? WHERE id = ?`, sha, id); err != nil {
		return db.fail("record the export's sha256", err)
	}
	return nil
}

// FinishRun records a run's end: its status, counts and error text
// (bounded: ClipRunError).
func (db *DB) FinishRun(ctx context.Context, id int64, status string, counts map[string]int, errText string) error {
	c := []byte("{}")
	if len(counts) > 0 {
		var err error
		if c, err = json.Marshal(counts); err != nil {
			return fmt.Errorf("record run end: %w", err)
		}
	}
	res, err := db.rw.ExecContext(ctx, `UPDATE runs SET status = ?, ended = ?, counts = ?, error = ? WHERE id = ?`,
		status, db.Now().Unix(), string(c), state.ClipRunError(errText), id)
	if err != nil {
		return db.fail("record run end", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("record run end: no run %d", id)
	}
	return nil
}

// Runs returns the last limit runs, newest first; all of them when limit
// is 0 or less.
func (db *DB) Runs(ctx context.Context, limit int) ([]state.Run, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.ro.QueryContext(ctx, `SELECT id, kind, file, file_sha256, status, started, ended, counts, error
		FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, db.fail("read runs", err)
	}
	defer rows.Close()
	var out []state.Run
	for rows.Next() {
		var r state.Run
		var started, ended int64
		var counts []byte
		if err := rows.Scan(&r.ID, &r.Kind, &r.File, &r.FileSHA256, &r.Status, &started, &ended, &counts, &r.Error); err != nil {
			return nil, db.fail("read runs", err)
		}
		r.Started, r.Ended = fromUnix(started), fromUnix(ended)
		if err := json.Unmarshal(counts, &r.Counts); err != nil {
			return nil, fmt.Errorf("read runs: counts of run %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("read runs", err)
	}
	return out, nil
}
