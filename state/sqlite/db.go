// Package sqlite is erpsync's checkpoint: a SQLite file (mattn/go-sqlite3)
// that remembers, per managed reference, what was pushed to the CRM and
// what was last seen there, plus the refresh watermark, the mapping
// fingerprint, run history, pending row failures and the CRM's last copy
// of each deleted customer. It knows no HTTP.
//
// A DB has two pools on the same file: one connection that writes (every
// write transaction is BEGIN IMMEDIATE, so a second process waits for the
// busy timeout instead of failing half-way) and a few read-only ones, so
// that reads never wait behind the writer's batches (WAL).
//
// state.Checkpoint is all that the engine asks of a checkpoint; DB
// implements it, and so does memstate.Mem, in memory. Both run the one
// contract suite of package statetest.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/mattn/go-sqlite3" // the SQLite driver

	"erpsync/state"
	"erpsync/state/compact"
)

// ApplicationID is the SQLite application_id that marks a file as an
// erpsync checkpoint ("ERPS"); see `PRAGMA application_id`.
const ApplicationID = 0x45525053

// BusyTimeout is how long a statement waits for a lock held by another
// connection before it fails.
const BusyTimeout = 10 * time.Second

// readers is the size of the read-only pool.
const readers = 4

//go:embed migrations/*.sql
var migrations embed.FS

// migrationName is the shape of a migration file: NNN_name.sql.
var migrationName = regexp.MustCompile(`^[0-9]{3}_[a-z0-9_]+\.sql$`)

// DB is the checkpoint. NewDB sets defaults; Open does the I/O.
type DB struct {
	Path string
	// Now is the clock of every stored time; tests replace it.
	Now func() time.Time
	// LockHeartbeat is how often a held lock is renewed (default
	// Heartbeat); tests shorten it.
	LockHeartbeat time.Duration

	// DeferCheck leaves SQLite's quick_check, a read of the whole file
	// (0.4-0.6 s for a million records), out of Open when no migration is
	// due: Verify runs it, beside other work (sync.Run does, beside its
	// plan, before any record is written). Open still refuses a file
	// that is not an erpsync checkpoint or is newer than this binary.
	DeferCheck bool
	Log        func(msg string) // when set, told of migration 008's copy started again

	checkMu      gosync.Mutex
	checkPending bool  // Open left the quick_check to Verify
	oldCheck     bool  // inspect left the old file's quick_check to migration 008
	checkErr     error // Verify's finding, kept

	// fields are the field names of stored values (compact.go), read
	// when first needed.
	fields *compact.Dict
	// stopBefore, when set (tests), leaves this migration and the later
	// ones unapplied: a checkpoint as an older erpsync wrote it.
	stopBefore string

	rw        *sql.DB // one connection: the only writer
	ro        *sql.DB // read-only connections
	get       *sql.Stmt
	getCRM    *sql.Stmt     // the CRM's lastUpdated of a record, alone
	known     *sql.Stmt     // knownByReference
	knownMany *sql.Stmt     // knownByReferences
	getVals   *sql.Stmt     // a record's values alone
	stretch   *sql.Stmt     // sqlStretch
	closed    chan struct{} // closed by Close: the locks' heartbeats end
}

// NewDB returns a checkpoint at path, not yet opened.
func NewDB(path string) *DB { return &DB{Path: path, Now: time.Now} }

// Exists reports whether a checkpoint was ever written at path: a file
// that is there and not empty. A missing or zero-byte file is no
// checkpoint: opening it would silently start over.
func Exists(path string) (bool, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state %s: %w", path, err)
	}
	return st.Size() > 0 || !st.Mode().IsRegular(), nil
}

// Open opens the checkpoint, creating it (mode 0600) when absent, and
// applies the migrations it lacks. A file that is not an erpsync
// checkpoint, is corrupt, or was written by a newer erpsync is an
// *UnusableError, and is neither recreated nor modified: it is inspected
// through a read-only connection before anything writes to it.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.rw != nil {
		return fmt.Errorf("state %s: already open", db.Path)
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	db.closed = make(chan struct{})
	db.fields = compact.NewDict()
	if err := db.createOrCheckFile(); err != nil {
		return err
	}
	if err := db.initPageSize(ctx); err != nil {
		return err
	}
	applied, err := db.inspect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			db.Close()
			db.rw, db.ro, db.get, db.getCRM, db.known, db.getVals, db.stretch, db.knownMany = nil, nil, nil, nil, nil, nil, nil, nil
		}
	}()
	if db.rw, err = sql.Open("sqlite3", dsn(db.Path,
		"_journal_mode=WAL", "_synchronous=NORMAL", "_foreign_keys=on", "_txlock=immediate",
		"_busy_timeout="+strconv.FormatInt(BusyTimeout.Milliseconds(), 10))); err != nil {
		return fmt.Errorf("open state %s: %w", db.Path, err)
	}
	db.rw.SetMaxOpenConns(1)
	db.rw.SetMaxIdleConns(1)
	if err := db.connect(ctx); err != nil { // connects: WAL and the pragmas now
		return db.fail("open state "+db.Path, err)
	}
	// The one writing connection copies the WAL into the database every
	// walCheckpointPages pages instead of SQLite's 1000: an import's
	// batches touch the same pages of the table and its index again and
	// again, copied (and synced) once per checkpoint instead of at every
	// few commits.
	if _, err := db.rw.ExecContext(ctx, "PRAGMA wal_autocheckpoint = "+strconv.Itoa(walCheckpointPages)); err != nil {
		return db.fail("open state "+db.Path, err)
	}
	if err := db.migrate(ctx, applied); err != nil {
		return err
	}
	if db.ro, err = sql.Open("sqlite3", dsn(db.Path, "mode=ro", "_foreign_keys=on",
		"_busy_timeout="+strconv.FormatInt(BusyTimeout.Milliseconds(), 10))); err != nil {
		return fmt.Errorf("open state %s: %w", db.Path, err)
	}
	db.ro.SetMaxOpenConns(readers)
	db.ro.SetMaxIdleConns(readers)
	if db.get, err = db.ro.PrepareContext(ctx, `SELECT `+recordColumns+` FROM records WHERE reference = ?`); err != nil {
		return db.fail("prepare", err)
	}
	if db.getCRM, err = db.ro.PrepareContext(ctx, `SELECT crm_last_updated FROM records WHERE reference = ?`); err != nil {
		return db.fail("prepare", err)
	}
	if db.known, err = db.ro.PrepareContext(ctx, knownByReference); err != nil {
		return db.fail("prepare", err)
	}
	if db.getVals, err = db.ro.PrepareContext(ctx, `SELECT vals FROM records WHERE reference = ?`); err != nil {
		return db.fail("prepare", err)
	}
	if db.stretch, err = db.ro.PrepareContext(ctx, sqlStretch); err != nil {
		return db.fail("prepare", err)
	}
	if db.knownMany, err = db.ro.PrepareContext(ctx, knownByReferences); err != nil {
		return db.fail("prepare", err)
	}
	if db.checkPending && !db.DeferCheck {
		return db.Verify(ctx) // the file a migration wrote
	}
	return nil
}

// Close closes the database; closing twice is harmless. Close the writers
// first: their later writes fail.
func (db *DB) Close() error {
	if db.closed != nil {
		select {
		case <-db.closed:
		default:
			close(db.closed)
		}
	}
	var errs []error
	for _, st := range []*sql.Stmt{db.get, db.getCRM, db.known, db.getVals, db.stretch, db.knownMany} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if db.ro != nil {
		errs = append(errs, db.ro.Close())
	}
	if db.rw != nil { // last: the last connection checkpoints the WAL
		errs = append(errs, db.rw.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close state %s: %w", db.Path, err)
	}
	return nil
}

// walCheckpointPages is the WAL's size, in pages, at which the writing
// connection checkpoints it (about 40 MB at SQLite's 4 KiB pages).
const walCheckpointPages = 10000

// dsn is a go-sqlite3 URI for path with parameters.
func dsn(path string, params ...string) string {
	s := "file:" + url.PathEscape(path)
	for i, p := range params {
		if i == 0 {
			s += "?" + p
		} else {
			s += "&" + p
		}
	}
	return s
}

// createOrCheckFile creates a missing state file with mode 0600, and
// refuses a path that cannot be a SQLite database, by its first bytes.
func (db *DB) createOrCheckFile() error {
	f, err := os.OpenFile(db.Path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create state file: %w", err)
	}
	f, err = os.Open(db.Path)
	if err != nil {
		return fmt.Errorf("open state file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open state file: %w", err)
	}
	if st.IsDir() {
		return &state.UnusableError{Path: db.Path, Reason: "it is a directory"}
	}
	if !st.Mode().IsRegular() {
		// A device or a pipe (/dev/null): SQLite would put its -wal and
		// -shm files beside it, in a folder that is not ours.
		return &state.UnusableError{Path: db.Path, Reason: "it is not a regular file"}
	}
	if st.Size() == 0 {
		return nil // an empty file is an empty database
	}
	head := make([]byte, 16)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "SQLite format 3\x00" {
		return &state.UnusableError{Path: db.Path, Reason: "not a SQLite database"}
	}
	return nil
}

// inspect reads, without writing, whether the file is ours, sound, and
// not newer than this binary; it returns the migrations already applied.
// An empty database (no schema, no application_id) is taken as new.
func (db *DB) inspect(ctx context.Context) (map[string]bool, error) {
	ro, err := sql.Open("sqlite3", dsn(db.Path, "mode=ro",
		"_busy_timeout="+strconv.FormatInt(BusyTimeout.Milliseconds(), 10)))
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", db.Path, err)
	}
	defer ro.Close()
	unusable := func(reason string) error { return &state.UnusableError{Path: db.Path, Reason: reason} }
	unreadable := func(err error) error {
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrCorrupt {
			return unusable("corrupt: " + err.Error())
		}
		return unusable("cannot be read as SQLite: " + err.Error())
	}

	// One statement, one snapshot: another process may be applying the
	// first migration (schema and application_id together) meanwhile.
	var id, tables int64
	if err := ro.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id()),
		(SELECT count(*) FROM sqlite_schema)`).Scan(&id, &tables); err != nil {
		return nil, unreadable(err)
	}
	if id == 0 && tables == 0 {
		return map[string]bool{}, nil
	}
	if id != ApplicationID {
		return nil, unusable(fmt.Sprintf("a SQLite database of another program (application_id %#x, erpsync's is %#x)", id, ApplicationID))
	}
	applied, err := appliedMigrations(ctx, ro, unusable, unreadable)
	if err != nil {
		return nil, err
	}
	known, err := migrationNames()
	if err != nil {
		return nil, err
	}
	if db.DeferCheck && len(applied) == len(known) {
		db.checkPending = true // Verify checks: nothing is due to migrate
		return applied, nil
	}
	// Migration 008 due, and none before it: it checks the old file
	// beside its copy, before it installs the new file (migrate008.go).
	if db.oldCheck = !applied[name008] && len(applied) == slices.Index(known, name008); !db.oldCheck {
		if err := quickCheck(ctx, ro); err != nil {
			return nil, unusable("corrupt: " + err.Error())
		}
	}
	if !applied[name008] {
		// Migration 008 writes a new file (migrate008.go): checked too,
		// once migrated.
		db.checkPending = true
	}
	return applied, nil
}

// appliedMigrations reads the names of the migrations applied to the
// file, refusing one newer than this binary.
func appliedMigrations(ctx context.Context, ro *sql.DB, unusable func(string) error, unreadable func(error) error) (map[string]bool, error) {
	applied := map[string]bool{}
	var hasTable int
	if err := ro.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'migrations'`).Scan(&hasTable); err != nil {
		return nil, unreadable(err)
	}
	if hasTable == 0 {
		return applied, nil
	}
	known, err := migrationNames()
	if err != nil {
		return nil, err
	}
	rows, err := ro.QueryContext(ctx, `SELECT name FROM migrations`)
	if err != nil {
		return nil, unusable("corrupt: " + err.Error())
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, unusable("corrupt: " + err.Error())
		}
		if !slices.Contains(known, name) {
			return nil, unusable("its schema is newer than this erpsync (migration " + name + "); use a newer erpsync")
		}
		applied[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, unusable("corrupt: " + err.Error())
	}
	return applied, nil
}

// Verify runs the quick_check that Open left out (DeferCheck): nil when
// the file is sound or was checked by Open, else an *UnusableError. A
// finding is kept; an interrupted check is not, and runs again.
func (db *DB) Verify(ctx context.Context) error {
	db.checkMu.Lock()
	defer db.checkMu.Unlock()
	if !db.checkPending {
		return db.checkErr
	}
	if err := quickCheck(ctx, db.ro); err != nil {
		if !isDamage(err) {
			// Interrupted, busy, an I/O error: this run cannot go on, the
			// next Verify checks again.
			return fmt.Errorf("check state %s: %w", db.Path, err)
		}
		db.checkErr = &state.UnusableError{Path: db.Path, Reason: "corrupt: " + err.Error()}
	}
	db.checkPending = false
	return db.checkErr
}

// damageError is quick_check's findings, told apart from a check that
// could not run.
type damageError struct{ findings string }

func (e *damageError) Error() string { return e.findings }

// isDamage says whether a quick_check error is damage: its findings, or
// SQLite refusing the file's pages as malformed.
func isDamage(err error) bool {
	var de *damageError
	var se sqlite3.Error
	return errors.As(err, &de) || errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// quickCheck runs SQLite's quick_check: nil when it answers ok, else an
// error with its first findings.
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check(4)`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s == "ok" {
			continue
		}
		// The first finding is headed by "*** in database main ***\n".
		s = strings.TrimSpace(strings.TrimPrefix(s, "*** in database main ***"))
		found = append(found, cmp.Or(s, "unknown damage"))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(found) > 0 {
		return &damageError{findings: strings.Join(found, "; ")}
	}
	return nil
}

// migrationNames lists the embedded migrations in the order they apply,
// by the names they are recorded under: "migrations/NNN_name.sql".
func migrationNames() ([]string, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !migrationName.MatchString(e.Name()) {
			return nil, fmt.Errorf("migration %s: the name is not NNN_name.sql", e.Name())
		}
		names = append(names, "migrations/"+e.Name())
	}
	slices.Sort(names)
	return names, nil
}

// migrate applies, in order, each embedded migration not yet applied, in
// its own transaction with its row in the migrations table. The first one
// also stamps the application_id, so a file holds a schema only if it is
// marked as ours.
func (db *DB) migrate(ctx context.Context, applied map[string]bool) error {
	names, err := migrationNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		if applied[name] {
			continue
		}
		if db.stopBefore != "" && name >= db.stopBefore {
			return nil
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		if step := goSteps[name]; step != nil {
			// A migration of the records themselves, in batches of its
			// own; its SQL ends it (migrate008.go).
			if err := step(ctx, db, string(body)); err != nil {
				return db.fail("apply migration "+name, err)
			}
			continue
		}
		err = db.tx(ctx, func(tx *sql.Tx) error {
			// Asked again inside the write transaction: another process
			// opening the same fresh file may have applied it meanwhile.
			if done, err := recorded(ctx, tx, "main", name); err != nil || done {
				return err
			}
			stmts := []string{
				`PRAGMA application_id = ` + strconv.Itoa(ApplicationID),
				string(body),
			}
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied) VALUES (?, ?)`, name, db.Now().Unix())
			return err
		})
		if err != nil {
			return db.fail("apply migration "+name, err)
		}
	}
	// Migration 008's new file, when a stop after its install left it; not
	// one another process's migration copies into now.
	return compact.RemoveLeft(db.Path)
}

// pageSize is a new checkpoint's page size: a record (two maps of values,
// ~1 KB) fits its page. With SQLite's 4 KiB pages every record of that
// size in the WITHOUT ROWID records table took an overflow page of its
// own: 1,000,000 customers made a 4.4 GB file, read at every run.
const pageSize = 16384

// initPageSize gives a new, empty checkpoint file its page size, before
// the writer's connection turns it to WAL (after which the page size can
// no longer change). A file with content keeps its own.
func (db *DB) initPageSize(ctx context.Context) error {
	st, err := os.Stat(db.Path)
	if err != nil || st.Size() > 0 {
		return nil // createOrCheckFile has judged the file already
	}
	c, err := sql.Open("sqlite3", dsn(db.Path, "_busy_timeout="+strconv.FormatInt(BusyTimeout.Milliseconds(), 10)))
	if err != nil {
		return fmt.Errorf("open state %s: %w", db.Path, err)
	}
	defer c.Close()
	for _, q := range []string{`PRAGMA page_size = ` + strconv.Itoa(pageSize), `VACUUM`} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return db.fail("create state "+db.Path, err)
		}
	}
	return nil
}

// connect opens the writer's connection. Switching a fresh file to WAL
// needs it alone: when another process opens the same file at that
// moment, SQLite answers "database is locked" at once, without waiting
// for its busy timeout; the switch is tried again for up to BusyTimeout.
func (db *DB) connect(ctx context.Context) error {
	deadline := time.Now().Add(BusyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.rw.PingContext(ctx)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE).
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.rw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// fail wraps an error of an operation; SQLite's verdict that the file is
// corrupt or not a database becomes an *UnusableError.
func (db *DB) fail(op string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return &state.UnusableError{Path: db.Path, Reason: op + ": " + err.Error()}
	}
	return fmt.Errorf("%s: %w", op, err)
}
