package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"erpsync/state/compact"
)

// goSteps are the migrations that copy records in Go, by name: each is
// given its SQL and applies it itself, recording the migration.
var goSteps = map[string]func(ctx context.Context, db *DB, body string) error{
	"migrations/008_compact_records.sql": compactRecords,
}

// copyMark splits migration 008's SQL: the schema before it, the swap
// after it, run in the last batch's transaction.
const copyMark = "-- copy --"

// copyBatch is how many records one transaction of migration 008 copies:
// its memory is bounded by it.
var copyBatch = 20_000

// copyHook, when set (tests), is called after each batch committed with
// the records copied so far; an error stops the migration there, as a
// kill would.
var copyHook func(copied int) error

// compactRecords is migration 008: the records are copied into the
// compact table a batch a transaction, from the last reference copied
// (a rerun goes on where a stopped one ended); the last batch swaps the
// tables and records the migration. The freed pages are then given back
// to the file system (VACUUM): the file shrinks to the new size.
func compactRecords(ctx context.Context, db *DB, body string) error {
	schema, swap, ok := strings.Cut(body, copyMark)
	if !ok {
		return errors.New("no copy mark")
	}
	var done bool
	if err := db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if done, err = applied008(ctx, tx); err != nil || done {
			return err // another process opening the file applied it meanwhile
		}
		_, err = tx.ExecContext(ctx, schema)
		return err
	}); err != nil {
		return fmt.Errorf("create the compact records: %w", err)
	}
	swapped := false
	for copied := 0; !done; {
		n, err := db.copyRecords(ctx, swap, &done, &swapped)
		if err != nil {
			return err
		}
		copied += n
		if copyHook != nil && !done {
			if err := copyHook(copied); err != nil {
				return err
			}
		}
	}
	if !swapped {
		return nil
	}
	if _, err := db.rw.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("compact the file: %w", err)
	}
	_, err := db.rw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// name008 is migration 008's name in the migrations table.
const name008 = "migrations/008_compact_records.sql"

// applied008 says whether migration 008 is recorded.
func applied008(ctx context.Context, tx *sql.Tx) (bool, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return false, err
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM migrations WHERE name = ?`, name008).Scan(&n)
	return n > 0, err
}

// copyRecords copies the next batch in one transaction; when it is the
// last one (fewer than copyBatch), swap runs in it and the migration is
// recorded: done and swapped (done alone: another process finished it).
func (db *DB) copyRecords(ctx context.Context, swap string, done, swapped *bool) (n int, err error) {
	var ft *compact.Tx
	err = db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if *done, err = applied008(ctx, tx); err != nil || *done {
			return err
		}
		ft = db.fields.Begin(ctx, tx)
		if n, err = compact.CopyBatch(ctx, tx, ft, copyBatch); err != nil {
			return err
		}
		if n == copyBatch {
			return nil
		}
		if _, err := tx.ExecContext(ctx, swap); err != nil {
			return fmt.Errorf("swap the tables: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO migrations (name, applied) VALUES (?, ?)`, name008, db.Now().Unix())
		*done, *swapped = err == nil, err == nil
		return err
	})
	if err != nil {
		*done, *swapped = false, false
		return 0, fmt.Errorf("copy records: %w", err)
	}
	ft.Commit()
	return n, nil
}
