package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"erpsync/state"
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
var copyBatch = 50_000

// Tests set migration 008's hooks: compact.Migration's CopyHook, PartHook, StepHook.
var (
	copyHook, partHook func(copied int) error
	stepHook           func(step string) error
	bootID             = compact.BootID // the machine's boot (tests: SetBootID)
)

// compactRecords is migration 008. A checkpoint without records (a new
// one) is migrated in place, in one transaction; any other is copied
// into a new file that is then copied over it (compact.Migration).
func compactRecords(ctx context.Context, db *DB, body string) error {
	schema, rest, ok1 := strings.Cut(body, "-- copy --")
	swap, indexes, ok2 := strings.Cut(rest, "-- compacted --")
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: its marks are missing", name008)
	}
	m := &compact.Migration{Path: db.Path, Schema: schema, Swap: swap, Indexes: indexes, AppID: ApplicationID,
		Batch: copyBatch, Boot: bootID(), CopyHook: copyHook, StepHook: stepHook, PartHook: partHook, Log: db.Log,
		Guard: db.runHolds,
		Recorded: func(ctx context.Context, q compact.DBTX, schema string) (bool, error) {
			return recorded(ctx, q, schema, name008)
		},
		Record: func(ctx context.Context, q compact.DBTX, schema string) error {
			_, err := q.ExecContext(ctx, `INSERT INTO `+schema+`.migrations (name, applied) VALUES (?, ?)`, name008, db.Now().Unix())
			return err
		},
	}
	if db.oldCheck {
		m.Check, m.Damage = db.checkOld, func(err error) bool { var ue *state.UnusableError; return errors.As(err, &ue) }
	}
	m.StartCheck(ctx)
	var handled bool
	err := db.tx(ctx, func(tx *sql.Tx) (err error) {
		handled, err = m.InPlace(ctx, tx)
		return err
	})
	if err != nil || handled { // the check waited for: a damaged file is refused
		if cerr := m.RefusedOutside(); cerr != nil {
			return cerr
		} else if err != nil {
			return err
		}
		return compact.RemoveLeft(db.Path)
	}
	if err = m.Run(ctx, db.rw); err == nil { // a rename install closed the writer's connection
		_, err = db.rw.ExecContext(ctx, "PRAGMA wal_autocheckpoint = "+strconv.Itoa(walCheckpointPages))
	}
	return err
}

// checkOld is the quick_check of a checkpoint that inspect left to
// migration 008 (oldCheck), run beside its copy.
func (db *DB) checkOld(ctx context.Context) error {
	ro, err := sql.Open("sqlite3", dsn(db.Path, "mode=ro", "_busy_timeout="+strconv.FormatInt(BusyTimeout.Milliseconds(), 10)))
	if err != nil {
		return fmt.Errorf("check state %s: %w", db.Path, err)
	}
	defer ro.Close()
	ro.SetMaxOpenConns(1) // the map's connection is the check's
	if _, err := ro.ExecContext(ctx, `PRAGMA mmap_size = `+strconv.Itoa(compact.MapSizeFor(db.Path))); err != nil {
		return fmt.Errorf("check state %s: %w", db.Path, err)
	}
	if err := quickCheck(ctx, ro); isDamage(err) {
		return &state.UnusableError{Path: db.Path, Reason: "corrupt: " + err.Error()}
	} else if err != nil { // interrupted, busy: not a finding
		return fmt.Errorf("check state %s: %w", db.Path, err)
	}
	return nil
}

// recorded says whether migration name is recorded in the migrations
// table of schema ("main", or an attached file), creating the table when
// the file has none yet.
func recorded(ctx context.Context, q compact.DBTX, schema, name string) (bool, error) {
	if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+schema+`.migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return false, err
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+schema+`.migrations WHERE name = ?`, name).Scan(&n)
	return n > 0, err
}

// runHolds refuses a checkpoint (in schema) whose run lock is held by a
// live process (Holder.GoneAt, as Acquire takes a lock over).
func (db *DB) runHolds(ctx context.Context, q compact.DBTX, schema string) error {
	held, err := holder(ctx, q, schema)
	if err != nil || held == nil || held.GoneAt(db.Now()) {
		return err
	}
	return fmt.Errorf("a run holds the checkpoint (%s, pid %d on %s since %s): migrate once it has ended",
		held.Kind, held.PID, held.Host, held.Since.UTC().Format(time.RFC3339))
}
