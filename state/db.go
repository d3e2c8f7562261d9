// Package state is erpsync's checkpoint: a SQLite file (mattn/go-sqlite3)
// that remembers, per managed reference, what was pushed to the CRM and
// what was last seen there, plus the refresh watermark, the mapping
// fingerprint, run history, pending row failures and the CRM's last copy
// of each deleted customer. It knows no HTTP.
package state

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strconv"

	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver
)

// applicationID marks a SQLite file as an erpsync checkpoint ("ERPS").
const applicationID = 0x45525053

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the checkpoint. NewDB sets defaults; Open does the I/O.
type DB struct {
	Path string
	// Now is the clock of every stored time; tests replace it.
	Now func() time.Time

	db *sql.DB
}

// NewDB returns a checkpoint at path, not yet opened.
func NewDB(path string) *DB { return &DB{Path: path, Now: time.Now} }

// UnusableError is a state file that erpsync will not use: not SQLite, not
// ours, corrupt, or from a newer erpsync. The file is left as it was.
type UnusableError struct {
	Path   string
	Reason string
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("state file %s is unusable: %s (it was left untouched)", e.Path, e.Reason)
}

// Open opens or creates the checkpoint and applies the migrations.
func (db *DB) Open(ctx context.Context) error {
	fresh := false
	st, err := os.Stat(db.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		f, err := os.OpenFile(db.Path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("create state file: %w", err)
		}
		f.Close()
		fresh = true
	case err != nil:
		return fmt.Errorf("state file: %w", err)
	case st.IsDir():
		return &UnusableError{Path: db.Path, Reason: "it is a directory"}
	case st.Size() > 0 && !isSQLite(db.Path):
		return &UnusableError{Path: db.Path, Reason: "not a SQLite database"}
	case st.Size() == 0:
		fresh = true
	}
	dsn := "file:" + url.PathEscape(db.Path) + "?_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	if db.db, err = sql.Open("sqlite3", dsn); err != nil {
		return fmt.Errorf("open state: %w", err)
	}
	// One connection: one writer, and no surprise between connections.
	db.db.SetMaxOpenConns(1)
	if err := db.check(ctx, fresh); err != nil {
		db.db.Close()
		return err
	}
	if _, err := db.db.ExecContext(ctx, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"); err != nil {
		db.db.Close()
		return fmt.Errorf("state %s: set WAL: %w", db.Path, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.db.Close()
		return err
	}
	return nil
}

// isSQLite reads the file's magic header.
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := f.Read(head)
	return n == 16 && string(head) == "SQLite format 3\x00"
}

// check refuses a file that is not ours or is corrupt, and marks a new one.
func (db *DB) check(ctx context.Context, fresh bool) error {
	var id int64
	if err := db.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return &UnusableError{Path: db.Path, Reason: "cannot be read as SQLite: " + err.Error()}
	}
	if fresh {
		_, err := db.db.ExecContext(ctx, "PRAGMA application_id="+strconv.Itoa(applicationID))
		if err != nil {
			return fmt.Errorf("state %s: mark: %w", db.Path, err)
		}
		return nil
	}
	if id != applicationID {
		return &UnusableError{Path: db.Path, Reason: "a SQLite database of another program (application_id " + strconv.FormatInt(id, 10) + ")"}
	}
	var res string
	if err := db.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil || res != "ok" {
		if err != nil {
			res = err.Error()
		}
		return &UnusableError{Path: db.Path, Reason: "corrupt: " + res}
	}
	return nil
}

// migrate applies the embedded migrations not yet applied, in order.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("state %s: migrations table: %w", db.Path, err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	applied := map[string]bool{}
	rows, err := db.db.QueryContext(ctx, `SELECT name FROM migrations`)
	if err != nil {
		return fmt.Errorf("state %s: read migrations: %w", db.Path, err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		applied[n] = true
	}
	rows.Close()
	for n := range applied {
		if !slices.Contains(names, n) {
			return &UnusableError{Path: db.Path, Reason: "written by a newer erpsync (migration " + n + ")"}
		}
	}
	for _, name := range names {
		if applied[name] {
			continue
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		err = db.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied) VALUES (?, ?)`, name, db.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("state %s: apply %s: %w", db.Path, name, err)
		}
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	if db.db == nil {
		return nil
	}
	return db.db.Close()
}

// tx runs fn in a transaction.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// meta reads a meta value ("" when absent).
func (db *DB) meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

func (db *DB) setMeta(ctx context.Context, key, value string) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// Watermark is the time of the last finished run's refresh; zero if none.
func (db *DB) Watermark(ctx context.Context) (time.Time, error) {
	v, err := db.meta(ctx, "watermark")
	if err != nil || v == "" {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, v)
}

// SetWatermark stores the refresh watermark.
func (db *DB) SetWatermark(ctx context.Context, t time.Time) error {
	return db.setMeta(ctx, "watermark", t.UTC().Format(time.RFC3339))
}

// Fingerprint is the mapping fingerprint of the last finished run.
func (db *DB) Fingerprint(ctx context.Context) (string, error) { return db.meta(ctx, "fingerprint") }

// SetFingerprint stores the mapping fingerprint.
func (db *DB) SetFingerprint(ctx context.Context, fp string) error {
	return db.setMeta(ctx, "fingerprint", fp)
}
