package state

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"

	"erpsync/state/compact"
)

// goSteps are the migrations that copy records in Go, by name: each is
// given its SQL and applies it itself, recording the migration.
var goSteps = map[string]func(ctx context.Context, db *DB, body string) error{
	name008: compactRecords,
}

// name008 is migration 008's name in the migrations table.
const name008 = "migrations/008_compact_records.sql"

// copyBatch is how many records one transaction of migration 008 copies:
// its memory is bounded by it.
var copyBatch = 20_000

// copyHook, when set (tests), is called after each batch committed with
// the records copied so far (the last batch too, swapped, before VACUUM
// and the indexes); an error stops the migration there, as a kill would.
var copyHook func(copied int) error

// compactRecords is migration 008. Its SQL is in three parts (split by
// its marks): the compact tables; the swap, run in the transaction of
// the last batch copied; the indexes, run with the migration's row. The
// records are copied a batch a transaction from the last reference
// copied: a rerun goes on where a stopped one ended, or after the swap.
// Between the swap and the indexes, VACUUM gives the old pages back: the
// file shrinks, and no index is copied twice.
func compactRecords(ctx context.Context, db *DB, body string) error {
	schema, rest, ok1 := strings.Cut(body, "-- copy --")
	swap, indexes, ok2 := strings.Cut(rest, "-- compacted --")
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: its marks are missing", name008)
	}
	// The copy, VACUUM and the index builds (sorts) page through far more
	// than SQLite's default cache of 2 MB: 64 MB while they last.
	if _, err := db.rw.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
		return err
	}
	defer db.rw.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -2000`)
	if done, err := db.copyAll(ctx, schema, swap); err != nil || done {
		return err
	}
	if err := db.giveBack(ctx); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		if done, err := applied008(ctx, tx); err != nil || done {
			return err
		}
		if _, err := tx.ExecContext(ctx, indexes); err != nil {
			return fmt.Errorf("index the compact records: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied) VALUES (?, ?)`, name008, db.Now().Unix())
		return err
	})
}

// The stages of migration 008, as a transaction finds them.
const (
	stageCopying = iota // records holds JSON values, records_v8 some copies
	stageCompact        // records is the compact table; no index yet
	stageDone           // recorded
)

// copyAll copies the records a batch a transaction, on the writing
// connection held for it (the copier's functions are registered there),
// until the tables are swapped; done: another process applied it.
func (db *DB) copyAll(ctx context.Context, schema, swap string) (done bool, err error) {
	conn, err := db.rw.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close() // back to the pool: db.tx uses it again
	c := &compact.Copier{}
	if err := conn.Raw(func(dc any) error { return c.Register(dc.(*sqlite3.SQLiteConn)) }); err != nil {
		return false, fmt.Errorf("copy records: %w", err)
	}
	for copied := 0; ; {
		n, stage, err := copyRecords(ctx, conn, c, schema, swap)
		if err != nil || stage == stageDone {
			return stage == stageDone, err
		}
		if copied += n; copyHook != nil {
			if err := copyHook(copied); err != nil {
				return false, err
			}
		}
		if stage == stageCompact {
			return false, nil
		}
	}
}

// copyRecords copies the next batch in one transaction, creating the
// compact tables first; the last batch (fewer than copyBatch) swaps the
// tables. It returns the stage found after it.
func copyRecords(ctx context.Context, conn *sql.Conn, c *compact.Copier, schema, swap string) (n, stage int, err error) {
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE (the DSN's _txlock)
	if err != nil {
		return 0, 0, fmt.Errorf("copy records: %w", err)
	}
	defer tx.Rollback() // after Commit: nothing
	if stage, err = stage008(ctx, tx); err != nil || stage != stageCopying {
		return 0, stage, err
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return 0, 0, fmt.Errorf("create the compact records: %w", err)
	}
	if n, err = c.CopyBatch(ctx, tx, copyBatch); err != nil {
		return 0, 0, err
	}
	if n < copyBatch {
		if _, err := tx.ExecContext(ctx, swap); err != nil {
			return 0, 0, fmt.Errorf("swap the tables: %w", err)
		}
		stage = stageCompact
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("copy records: %w", err)
	}
	return n, stage, nil
}

// applied008 says whether migration 008 is recorded.
func applied008(ctx context.Context, tx *sql.Tx) (bool, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return false, err
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM migrations WHERE name = ?`, name008).Scan(&n)
	return n > 0, err
}

// stage008 says where migration 008 stands: the records table is the
// compact one once its values are declared BLOB.
func stage008(ctx context.Context, tx *sql.Tx) (int, error) {
	if done, err := applied008(ctx, tx); err != nil || done {
		return stageDone, err
	}
	var compacted int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('records') WHERE name = 'vals' AND upper(type) = 'BLOB'`).Scan(&compacted)
	if err != nil || compacted == 0 {
		return stageCopying, err
	}
	return stageCompact, nil
}

// giveBack gives the file's free pages back to the file system (VACUUM)
// when they are many: a new checkpoint has none.
func (db *DB) giveBack(ctx context.Context) error {
	var free, pages int64
	if err := db.rw.QueryRowContext(ctx, `SELECT (SELECT freelist_count FROM pragma_freelist_count()), (SELECT page_count FROM pragma_page_count())`).
		Scan(&free, &pages); err != nil || free < 16 || free < pages/4 {
		return err
	}
	if _, err := db.rw.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("compact the file: %w", err)
	}
	_, err := db.rw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
