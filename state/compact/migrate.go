package compact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Migration is migration 008 of a checkpoint that holds records: the
// checkpoint is copied into a new file beside it (Next), the records in
// this encoding a batch a transaction from the last reference copied, so
// a rerun goes on where a stopped one ended; the new file is then copied
// over the checkpoint by SQLite's backup, one transaction of the
// checkpoint's WAL: a crash leaves the old checkpoint or the new one,
// whole, and readers of the checkpoint read the old one until it
// commits. The new file is written once, its indexes built after the
// copy, and its pages become the checkpoint's: no VACUUM, no old page
// kept. The migrations table is the caller's (Recorded, Record).
type Migration struct {
	Path                  string // the checkpoint
	Schema, Swap, Indexes string // 008's SQL, cut at its marks; every name main's
	AppID                 int    // the checkpoint's application_id
	Batch                 int    // records a transaction
	// Boot is the id of the machine's boot (BootID). Known, the copy
	// into the new file is never synced (the install syncs what it
	// copies over the checkpoint): a file beside it (Mark) names the
	// boot until the new file is removed, and a new file of an earlier
	// boot is copied again. Unknown (""), each commit is synced.
	Boot string
	// Recorded says whether the migration is recorded in a file's
	// migrations table (schema: "main", or "old" for the checkpoint
	// attached to the new file); Record records it there.
	Recorded func(ctx context.Context, q DBTX, schema string) (bool, error)
	Record   func(ctx context.Context, q DBTX, schema string) error
	// CopyHook, when set (tests, benchmarks), is called after each batch
	// committed with the records copied so far (the last one too: the
	// new file complete, indexed); StepHook at each step
	// after the copy: "complete" (the new file holds the whole
	// checkpoint) and "installed" (copied over it, not yet removed). An
	// error stops the migration there, as a kill would.
	CopyHook func(copied int) error
	StepHook func(step string) error
	// PartHook, when set (tests), is called after each batch of the
	// copy of the records after the split (split.go) with the records it
	// copied so far; an error stops that copy, and the migration with it.
	PartHook func(copied int) error
	// Guard, when set, refuses to go on while the checkpoint in schema
	// ("old", "main") is held by a live run: called in each transaction
	// of the copy, and before the install.
	Guard func(ctx context.Context, q DBTX, schema string) error
	// Log, when set, is told of a new file copied again (ErrStale).
	Log func(msg string)
	// Check, when set, checks the checkpoint's pages (SQLite's
	// quick_check); StartCheck runs it beside the copy. Its error stops
	// the migration before anything is written to the checkpoint (InPlace
	// and the install wait for it); the new file is removed when Damage
	// says the checkpoint is damaged, kept for the next start when the
	// check was only interrupted (a signal, a busy file).
	Check  func(ctx context.Context) error
	Damage func(err error) bool

	check    chan error    // StartCheck's answer, once
	checkGo  chan struct{} // closed: the check may start (letCheck)
	checkErr error
	released *os.File // the old checkpoint, renamed over: releaseOld
	written  fileID   // the new file, whose write-out each batch starts (writeout_linux.go)
}

// StartCheck starts Check, when set, beside what follows; Checked waits
// for its answer. The check reads the whole checkpoint: while the records
// are copied on two connections (split.go), the two cores are theirs, and
// it waits for the end of the copy after the split (letCheck), then runs
// beside the merge and the index builds, which leave a core free.
func (m *Migration) StartCheck(ctx context.Context) {
	if m.Check == nil {
		return
	}
	check, gate := make(chan error, 1), make(chan struct{})
	m.check, m.checkGo = check, gate
	go func() {
		select {
		case <-gate:
		case <-ctx.Done(): // the check sees it, and says it was interrupted
		}
		check <- m.Check(ctx)
	}()
}

// letCheck lets the check StartCheck started run, once.
func (m *Migration) letCheck() {
	if m.checkGo != nil {
		close(m.checkGo)
		m.checkGo = nil
	}
}

// Checked waits for the check StartCheck started: its error, nil when
// none was started.
func (m *Migration) Checked() error {
	m.letCheck()
	if m.check != nil {
		m.checkErr, m.check = <-m.check, nil
	}
	return m.checkErr
}

// Refused is Checked's error, the new file removed when the error is the
// checkpoint's damage (Damage): a copy of a damaged file is never taken
// up, a copy whose check was interrupted is.
func (m *Migration) Refused() error { return m.refused(RemoveNext) }

// RefusedOutside is Refused outside Run, its lock not held: the new file
// is removed only when no migration holds the lock (RemoveLeft).
func (m *Migration) RefusedOutside() error { return m.refused(RemoveLeft) }

func (m *Migration) refused(remove func(path string) error) error {
	err := m.Checked()
	if err != nil && (m.Damage == nil || m.Damage(err)) {
		return errors.Join(err, remove(m.Path))
	}
	return err
}

// BootID is the id of the machine's current boot (Linux's), "" when
// unknown.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// restarts bounds the copies started again because the checkpoint
// changed meanwhile (each needs an older erpsync's run in between).
const restarts = 3

// DBTX runs statements: a transaction or a connection.
type DBTX interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InstallWait bounds how long the migration waits for the lock of its
// new file, held by another process copying into it or copying it over
// the checkpoint (seconds for a million records).
const InstallWait = 10 * time.Minute

// Next is the file, beside the checkpoint at path, that the migration
// writes.
func Next(path string) string { return path + "-migrate008" }

// Mark is the file beside the new file of the checkpoint at path that
// names the boot whose copy may not be on disk yet.
func Mark(path string) string { return Next(path) + "-boot" }

// RemoveNext removes the new file of the checkpoint at path, its journal
// and its mark (last: a new file without a mark is taken as synced),
// once they are no longer needed.
func RemoveNext(path string) error {
	if err := removePart(path); err != nil {
		return err
	}
	for _, p := range []string{Next(path), Next(path) + "-journal", Mark(path)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// Run migrates the checkpoint; rw is its pool of one writing connection.
// One migration of a checkpoint runs at a time (Lock): another process's
// waits for its end, then finds the checkpoint migrated.
// A new file left by an earlier stop is taken up only while the
// checkpoint is as it was when its copy began (its fingerprint, stored
// in the new file): else it is removed and the copy starts again.
// A damaged checkpoint (Check) is not installed over: its error, and
// the new file removed.
func (m *Migration) Run(ctx context.Context, rw *sql.DB) (err error) {
	unlock, err := lockMigration(ctx, m.Path) // one migration at a time (Lock)
	if err != nil {
		// The check ended (it reads the checkpoint, writes nothing); the
		// new file is another process's: not removed.
		return errors.Join(err, m.Checked())
	}
	defer unlock() // last: a damaged checkpoint's new file is removed under the lock
	defer func() {
		if cerr := m.Refused(); cerr != nil {
			err = cerr
		}
	}()
	for try := 0; ; try++ {
		err := m.run(ctx, rw)
		if !errors.Is(err, ErrStale) || try == restarts {
			return err
		}
		if m.Log != nil {
			m.Log(fmt.Sprintf("migration 008: %v; %s removed, the copy starts again", err, Next(m.Path)))
		}
		if err := RemoveNext(m.Path); err != nil {
			return err
		}
	}
}

// run is one attempt of Run.
func (m *Migration) run(ctx context.Context, rw *sql.DB) error {
	var pageSize int
	if err := rw.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return err
	}
	next := Next(m.Path)
	synced, err := m.markNext()
	if err != nil {
		return err
	}
	mode := map[bool]string{true: "FULL", false: "OFF"}[synced]
	if err := createPrivate(next); err != nil {
		return fmt.Errorf("open %s: %w", next, err)
	}
	m.written = fileID{} // synced at each commit (FULL): no write-out
	if mode == "OFF" {
		m.written = idOf(next)
	}
	nx, err := sql.Open("sqlite3", uri(next, "_txlock=immediate&_synchronous="+mode+"&_busy_timeout="+
		strconv.FormatInt(InstallWait.Milliseconds(), 10)))
	if err != nil {
		return fmt.Errorf("open %s: %w", next, err)
	}
	defer nx.Close()
	nx.SetMaxOpenConns(1)
	conn, err := nx.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", next, err)
	}
	defer conn.Close()
	// The checkpoint's page size (a backup into a WAL file needs it); a
	// 64 MB cache for the copy and the index builds, which read the new
	// file through a map (MapSizeFor: on a local disk).
	for _, s := range []string{`PRAGMA page_size = ` + strconv.Itoa(pageSize), `PRAGMA cache_size = -65536`,
		`PRAGMA mmap_size = ` + strconv.Itoa(MapSizeFor(m.Path))} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("open %s: %w", next, err)
		}
	}
	if err := attachOld(ctx, conn, m.Path); err != nil {
		return fmt.Errorf("open %s: %w", next, err)
	}
	done, err := m.copyAll(ctx, conn, mode)
	if err != nil {
		return err
	} else if done {
		return RemoveNext(m.Path)
	}
	if err := m.step("complete"); err != nil {
		return err
	}
	if err := m.Checked(); err != nil {
		return err
	}
	if err := m.install(ctx, conn, rw, next); err != nil {
		return err
	}
	m.releaseOld()
	if err := m.step("installed"); err != nil {
		return err
	}
	return RemoveNext(m.Path)
}

// MapSize is the size of the memory map through which a copying
// connection, or the page check, reads the checkpoint, and the last step
// the new file and the part file (SQLite's
// mmap_size; its bound, 2 GB less 64 kB, the most it maps): a page read
// from the map is not copied by a pread, a fifth of the kernel's work of
// the copy when each of the two copies and the check read it so.
const MapSize = 2147418112

// attachOld attaches the checkpoint at path to conn as old, read through
// a memory map (MapSizeFor).
func attachOld(ctx context.Context, conn *sql.Conn, path string) error {
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, path); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, `PRAGMA old.mmap_size = `+strconv.Itoa(MapSizeFor(path)))
	return err
}

// MapSizeFor is the memory map through which migration 008 reads the
// file at path (the checkpoint, and its new file and part file beside
// it, on the same filesystem): MapSize on a local filesystem this
// program knows (localFS), else none. An I/O error inside a map is a
// signal SQLite cannot turn into an error: on a network share, where a
// server's hiccup is such an error, erpsync would crash at every start
// instead of saying what is wrong.
func MapSizeFor(path string) int {
	if localFS(path) {
		return MapSize
	}
	return 0
}

// InPlace migrates, in the transaction tx of the checkpoint (main), a
// checkpoint without records, or one whose records an earlier erpsync
// compacted in place without indexing them yet; handled is false when
// the records must be copied into a new file (Run).
func (m *Migration) InPlace(ctx context.Context, tx *sql.Tx) (handled bool, err error) {
	if done, err := m.Recorded(ctx, tx, "main"); err != nil || done {
		return done, err
	}
	if m.Guard != nil {
		if err := m.Guard(ctx, tx, "main"); err != nil {
			return false, err
		}
	}
	var compacted, records int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pragma_table_info('records') WHERE name = 'vals' AND upper(type) = 'BLOB'),
		(SELECT count(*) FROM (SELECT 1 FROM records LIMIT 1))`).Scan(&compacted, &records); err != nil {
		return false, err
	}
	steps := []string{m.Indexes}
	switch {
	case compacted == 0 && records > 0:
		return false, nil
	case compacted == 0:
		steps = []string{`DROP TABLE IF EXISTS records_v8`, m.Schema, m.Swap, m.Indexes}
	}
	if err := m.Checked(); err != nil {
		return false, err
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return false, fmt.Errorf("compact the records: %w", err)
		}
	}
	return true, m.Record(ctx, tx, "main")
}

// markNext readies the new file: synced says its copy is synced at each
// commit (the boot unknown, or a new file without a mark: an older
// erpsync's); else its mark names this boot. A new file marked by an
// earlier boot is removed first: the machine stopped meanwhile, its
// pages may not all be on disk; so is a marked one when the boot is
// unknown (a restricted /proc): which boot wrote it cannot be told.
func (m *Migration) markNext() (synced bool, err error) {
	mark := Mark(m.Path)
	b, err := os.ReadFile(mark)
	switch {
	case m.Boot == "" && err == nil: // a copy not synced, its boot unknowable now
		if m.Log != nil {
			m.Log(fmt.Sprintf("migration 008: %s was written without syncing, by a boot this one cannot tell apart; removed, the copy starts again", Next(m.Path)))
		}
		return true, RemoveNext(m.Path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("read %s: %w", mark, err)
	case m.Boot == "":
		return true, nil
	case err == nil && string(b) == m.Boot:
		return false, nil // this boot's: what it wrote is read back
	case err == nil:
		if m.Log != nil {
			m.Log(fmt.Sprintf("migration 008: %s was written before the machine restarted; removed, the copy starts again", Next(m.Path)))
		}
		if err := RemoveNext(m.Path); err != nil {
			return false, err
		}
	default:
		if _, err := os.Stat(Next(m.Path)); err == nil {
			return true, nil
		}
	}
	return false, writeSynced(mark, m.Boot)
}

// writeSynced writes a new file at path holding s, on disk with its
// name before it returns.
func writeSynced(path, s string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.WriteString(s)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(path); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}

// uri is a go-sqlite3 URI of the file at path, with parameters.
func uri(path, params string) string { return "file:" + url.PathEscape(path) + "?" + params }

// step calls StepHook, when set.
func (m *Migration) step(name string) error {
	if m.StepHook == nil {
		return nil
	}
	return m.StepHook(name)
}

// The stages of the migration, as a transaction finds them.
const (
	stageCopying  = iota // the new file holds some records, or none
	stageComplete        // the new file holds the whole checkpoint
	stageDone            // the checkpoint is migrated
)

// copyAll copies the checkpoint attached as old into the new file (the
// main database of conn) a batch a transaction, until the new file is
// complete; done: the checkpoint is migrated already (another process).
// A split copy (split.go) copies the records after the split beside,
// into Part, merged in by the last step; mode is the new file's
// synchronous setting, Part's too.
func (m *Migration) copyAll(ctx context.Context, conn *sql.Conn, mode string) (done bool, err error) {
	c := &Copier{}
	if err := registerOn(conn, c); err != nil {
		return false, err
	}
	var part *partCopy
	defer func() { part.stop() }() // stopped with the copy: as a kill would
	merge, lost := false, 0
	for copied := 0; ; {
		n, stage, s, err := m.copyNext(ctx, conn, c, merge)
		if err != nil || stage == stageDone {
			return stage == stageDone, err
		}
		if n > 0 || stage == stageComplete {
			startWriteOut(ctx, conn, m.written)
		}
		if copied += n; m.CopyHook != nil && (n > 0 || stage == stageComplete) {
			if err := m.CopyHook(copied); err != nil {
				return false, err
			}
		}
		switch {
		case stage == stageComplete:
			return false, m.dropPart(ctx, conn, merge)
		case s.reference == "": // one copy: the check beside it
			m.letCheck()
			continue
		case part == nil:
			part = m.startPart(ctx, s, mode)
		}
		if n < m.Batch && !merge { // the records up to the split copied: the others too?
			err := part.wait()
			if m.letCheck(); err != nil {
				return false, err
			}
			if merge, err = attachPart(ctx, conn, m.Path); err != nil {
				return false, err
			} else if merge {
				continue
			}
			if lost++; lost > restarts {
				return false, fmt.Errorf("copy records: %s keeps being removed", Part(m.Path))
			}
			part = nil // Part removed: copied again, unless the new file is complete
		}
	}
}

// dropPart detaches Part from conn (attached: merged into the new file,
// complete) and removes it.
func (m *Migration) dropPart(ctx context.Context, conn *sql.Conn, attached bool) error {
	if !attached {
		return nil
	}
	if _, err := conn.ExecContext(ctx, `DETACH DATABASE p2`); err != nil {
		return fmt.Errorf("close %s: %w", Part(m.Path), err)
	}
	return removePart(m.Path)
}

// copyNext copies the next batch in one transaction, giving the new file
// the checkpoint's schema first; the last batch (fewer than Batch; of a
// split copy, the one after Part's copy, attached: merge) swaps the
// tables, builds the indexes and copies the other tables with the
// migration's row. It returns the stage found after it, and the split.
func (m *Migration) copyNext(ctx context.Context, conn *sql.Conn, c *Copier, merge bool) (n, stage int, s split, err error) {
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE of both files (the DSN's _txlock)
	if err != nil {
		return 0, 0, s, fmt.Errorf("copy records: %w", err)
	}
	defer tx.Rollback() // after Commit: nothing
	if stage, err = m.stage(ctx, tx); err != nil || stage != stageCopying {
		return 0, stage, s, err
	}
	if err := m.copySchema(ctx, tx); err != nil {
		return 0, 0, s, err
	}
	if s, err = readSplit(ctx, tx); err != nil {
		return 0, 0, s, fmt.Errorf("read the split: %w", err)
	}
	if n, err = c.CopyBatch(ctx, tx, m.Batch, s.reference); err != nil {
		return 0, 0, s, err
	}
	if n < m.Batch && (s.reference == "" || merge) {
		if merge {
			merged, err := mergePart(ctx, tx, s)
			if err != nil {
				return 0, 0, s, err
			}
			n += merged
			startWriteOut(ctx, tx, m.written) // what the merge wrote, before the indexes
		}
		if err := m.finish(ctx, tx); err != nil {
			return 0, 0, s, err
		}
		stage = stageComplete
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, s, fmt.Errorf("copy records: %w", err)
	}
	return n, stage, s, nil
}

// stage says where the migration stands: the checkpoint (old) migrated,
// or the new file (main) complete once its records table is the compact
// one. A new file copied from a checkpoint that changed since is
// ErrStale: while copying, the fingerprint stored at its first batch
// differs from the checkpoint's; complete, its own does.
func (m *Migration) stage(ctx context.Context, tx *sql.Tx) (int, error) {
	if done, err := m.Recorded(ctx, tx, "old"); err != nil || done {
		return stageDone, err
	}
	if m.Guard != nil {
		if err := m.Guard(ctx, tx, "old"); err != nil {
			return 0, err
		}
	}
	var complete, copying, stored int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE name = 'records'), count(*) FILTER (WHERE name = 'records_v8'),
		count(*) FILTER (WHERE name = 'migrate008_from') FROM main.sqlite_schema`).Scan(&complete, &copying, &stored); err != nil {
		return 0, fmt.Errorf("read the new file's schema: %w", err)
	}
	now, err := Fingerprint(ctx, tx, "old", complete > 0)
	if err != nil {
		return 0, err
	}
	var then string
	switch {
	case complete > 0:
		then, err = Fingerprint(ctx, tx, "main", true)
	case copying == 0:
		return stageCopying, nil // a new file: copySchema stores the fingerprint
	case stored > 0:
		err = tx.QueryRowContext(ctx, `SELECT fingerprint FROM main.migrate008_from`).Scan(&then)
	}
	if err != nil {
		return 0, fmt.Errorf("read the new file's fingerprint: %w", err)
	}
	if then != now { // none stored: an earlier erpsync's file, of unknown origin
		return 0, ErrStale
	}
	if complete > 0 {
		return stageComplete, nil
	}
	return stageCopying, nil
}

// moved are the checkpoint's tables and indexes that the new file does
// not take as they are: the records, and the tables of the migration
// that an earlier erpsync may have left half-filled in the checkpoint.
const moved = `name NOT LIKE 'sqlite_%' AND tbl_name NOT IN ('records', 'records_v8', 'fields')`

// copySchema gives a new file, once, the checkpoint's tables and indexes
// (as their SQL created them) but the records', the compact tables and
// the checkpoint's application_id.
func (m *Migration) copySchema(ctx context.Context, tx *sql.Tx) error {
	var has int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM main.sqlite_schema WHERE name = 'records_v8'`).Scan(&has); err != nil || has > 0 {
		return err
	}
	stmts, err := column(ctx, tx, `SELECT sql FROM old.sqlite_schema WHERE sql IS NOT NULL AND `+moved+` ORDER BY type != 'table', rowid`)
	if err != nil {
		return fmt.Errorf("read the checkpoint's schema: %w", err)
	}
	stmts = append(stmts, m.Schema, `PRAGMA main.application_id = `+strconv.Itoa(m.AppID),
		`CREATE TABLE main.migrate008_from (fingerprint TEXT NOT NULL)`)
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create the new file's schema: %w", err)
		}
	}
	if err := chooseSplit(ctx, tx, m.Batch); err != nil {
		return err
	}
	fp, err := Fingerprint(ctx, tx, "old", false)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO main.migrate008_from (fingerprint) VALUES (?)`, fp); err != nil {
		return fmt.Errorf("store the checkpoint's fingerprint: %w", err)
	}
	return nil
}

// finish ends the copy in the transaction of its last batch: the compact
// table becomes records, indexed; the checkpoint's other tables' rows
// are copied, and the migration recorded. The stored fingerprint goes
// first (its page is taken again by the indexes): complete, the new file
// is its own fingerprint.
func (m *Migration) finish(ctx context.Context, tx *sql.Tx) error {
	for _, s := range []string{`DROP TABLE main.migrate008_from`, `DROP TABLE IF EXISTS main.migrate008_split`, m.Swap, m.Indexes} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("index the compact records: %w", err)
		}
	}
	tables, err := column(ctx, tx, `SELECT name FROM old.sqlite_schema WHERE type = 'table' AND `+moved)
	if err != nil {
		return fmt.Errorf("read the checkpoint's tables: %w", err)
	}
	for _, t := range tables {
		t = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if _, err := tx.ExecContext(ctx, `INSERT INTO main.`+t+` SELECT * FROM old.`+t); err != nil {
			return fmt.Errorf("copy table %s: %w", t, err)
		}
	}
	return m.Record(ctx, tx, "main")
}

// column reads a query's one text column.
func column(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// install puts the complete new file in the checkpoint's place: renamed
// over it when no other connection holds it (renameInstall), else copied
// over it (rw's one connection) with SQLite's backup, in one write
// transaction of the checkpoint. conn's write lock on the new file is
// held meanwhile: another process finishing the same migration waits
// for it, then finds the checkpoint migrated.
func (m *Migration) install(ctx context.Context, conn *sql.Conn, rw *sql.DB, next string) error {
	if _, err := conn.ExecContext(ctx, `DETACH DATABASE old`); err != nil {
		return fmt.Errorf("install %s: %w", next, err)
	}
	// A descriptor of the new file opened by renameInstall is closed
	// last, after lock's rollback and sc's close: closing any descriptor
	// of a file drops all of the process's POSIX locks on it.
	var opened []*os.File
	defer func() {
		for _, f := range opened {
			_ = f.Close()
		}
	}()
	lock, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("install %s: %w", next, err)
	}
	defer lock.Rollback() // it writes nothing
	dst, err := rw.Conn(ctx)
	if err != nil {
		return err
	}
	defer dst.Close()
	if done, err := m.Recorded(ctx, dst, "main"); err != nil || done {
		return err
	}
	if err := m.unchanged(ctx, lock, dst); err != nil {
		return err
	}
	copied, err := os.Stat(next) // the file compared, for renameInstall
	if err != nil {
		return fmt.Errorf("install %s: %w", next, err)
	}
	src, err := sql.Open("sqlite3", uri(next, "mode=ro"))
	if err != nil {
		return fmt.Errorf("install %s: %w", next, err)
	}
	defer src.Close()
	sc, err := src.Conn(ctx)
	if err != nil {
		return fmt.Errorf("install %s: %w", next, err)
	}
	defer sc.Close()
	if err := sameCopy(ctx, lock, sc); err != nil {
		return fmt.Errorf("install %s: %w", next, err)
	}
	if err := m.step("compared"); err != nil {
		return err
	}
	if installed, err := m.renameInstall(ctx, lock, dst, next, copied, &opened); installed || err != nil {
		return err
	}
	recheck := func() error { return m.unchangedLocked(ctx, lock) }
	if err := backup(dst, sc, recheck); err != nil {
		return fmt.Errorf("install %s: %w", next, err)
	}
	// The WAL holds the whole file now: into the file, and emptied.
	_, err = dst.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// sameCopy makes sure that the file opened by name for the backup (sc)
// holds what the locked new file holds: the name may meanwhile lead to
// another file (another host's erpsync, which cannot know this boot,
// removing the copy and starting its own). Its read transaction, left
// open for the backup, keeps that file as compared.
func sameCopy(ctx context.Context, lock *sql.Tx, sc *sql.Conn) error {
	held, err := Fingerprint(ctx, lock, "main", true)
	if err != nil {
		return err
	}
	if _, err := sc.ExecContext(ctx, `BEGIN`); err != nil {
		return err
	}
	named, err := Fingerprint(ctx, sc, "main", true)
	if err != nil {
		return err
	}
	if named != held {
		return errors.New("the new file was replaced meanwhile: not installed")
	}
	return nil
}

// unchanged says whether the checkpoint (dst) is free of live runs and
// as the complete new file (of the transaction lock) holds it; else
// ErrStale. Another process may write to the checkpoint after it: the
// install compares again once it holds the checkpoint's write lock
// (renameInstall, backup).
func (m *Migration) unchanged(ctx context.Context, lock *sql.Tx, dst DBTX) error {
	if m.Guard != nil {
		if err := m.Guard(ctx, dst, "main"); err != nil {
			return err
		}
	}
	now, err := Fingerprint(ctx, dst, "main", true)
	if err != nil {
		return err
	}
	then, err := Fingerprint(ctx, lock, "main", true)
	if err != nil {
		return err
	}
	if now != then {
		return ErrStale
	}
	return nil
}

// backupTries bounds the backup's attempts that find the checkpoint
// busy (each after the connection's busy timeout).
const backupTries = 30

// backup copies the database of src over the one of dst, whole. Its
// first step copies no page: it takes the write lock of dst (held to the
// end of the backup; its page count says it was taken), then recheck
// compares the checkpoint, which nobody else can write to from then on,
// with the new file: a write that came in since the comparison is not
// overwritten (ErrStale). The other steps copy it all.
func backup(dst, src *sql.Conn, recheck func() error) error {
	return dst.Raw(func(d any) error {
		return src.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			locked := false
			for range backupTries {
				if !locked {
					if _, err := b.Step(0); err != nil {
						return errors.Join(err, b.Finish())
					}
					if locked = b.PageCount() > 0; !locked {
						continue // busy
					}
					if err := recheck(); err != nil {
						return errors.Join(err, b.Finish())
					}
				}
				done, err := b.Step(-1)
				if err != nil || done {
					return errors.Join(err, b.Finish())
				}
			}
			return errors.Join(errors.New("the checkpoint stayed busy"), b.Finish())
		})
	})
}

// unchangedLocked is unchanged read on a connection of its own to the
// checkpoint, in one read transaction, while the backup holds its write
// lock.
func (m *Migration) unchangedLocked(ctx context.Context, lock *sql.Tx) error {
	db, err := sql.Open("sqlite3", uri(m.Path, "mode=ro"))
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `BEGIN`); err != nil {
		return err
	}
	defer c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`) //nolint:errcheck // it read only
	return m.unchanged(ctx, lock, c)
}
