package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"erpsync/state"
)

// Hooks of migration 008 (migrate008.go) for its tests and for its
// benchmark, which runs in sync's test binary (BenchmarkMigrate1M: it
// times a steady run beside, which needs sync): no program sets them.

// SetCopyHook sets the hook called after each batch of migration 008,
// and its batch size (0: as it is); it returns a function that restores
// both. Not while a migration runs.
func SetCopyHook(batch int, hook func(copied int) error) (restore func()) {
	oldBatch, oldHook := copyBatch, copyHook
	copyBatch, copyHook = cmp.Or(batch, copyBatch), hook
	return func() { copyBatch, copyHook = oldBatch, oldHook }
}

// SetStepHook sets the hook called at each step of migration 008 after
// the copy ("complete": the new file holds everything; "compared",
// "exclusive", "synced", "renamed" in a rename install; "installed": it
// is in the checkpoint's place); it returns a function that restores it.
// Not while a migration runs.
func SetStepHook(hook func(step string) error) (restore func()) {
	old := stepHook
	stepHook = hook
	return func() { stepHook = old }
}

// WriteLegacy008 writes at path a new checkpoint as erpsync wrote it
// before migration 008 (values as JSON, json.Marshal's bytes), holding
// outs, pushed at pushedAt: what migration 008's tests and benchmark
// migrate.
func WriteLegacy008(ctx context.Context, path string, pushedAt time.Time, outs iter.Seq[state.Outcome]) error {
	db := NewDB(path)
	db.stopBefore = name008
	if err := errors.Join(db.Open(ctx), db.Close()); err != nil {
		return err
	}
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	// A checkpoint migration 008 has compacted would take JSON rows
	// into its compact columns (the table is not STRICT) and be damaged.
	var compacted int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'fields'`).Scan(&compacted); err != nil {
		return err
	} else if compacted > 0 {
		return fmt.Errorf("write a legacy checkpoint at %s: migration 008 has compacted it already", path)
	}
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit: nothing
	ins, err := tx.PrepareContext(ctx, `INSERT INTO records (reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, row_sum)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for o := range outs {
		v, c := o.Maps()
		vals, _ := json.Marshal(orEmpty(v))
		crm, _ := json.Marshal(orEmpty(c))
		if _, err := ins.ExecContext(ctx, o.Reference, o.Hash, string(vals), o.CRMID, state.Millis(o.CRMLastUpdated),
			string(crm), state.Seconds(pushedAt), int64(o.RowSum)); err != nil {
			return fmt.Errorf("write %s: %w", o.Reference, err)
		}
	}
	return tx.Commit()
}

// orEmpty is m, or an empty map for nil (JSON's {}, not null).
func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
