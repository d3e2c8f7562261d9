package compact

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"github.com/mattn/go-sqlite3"
)

// The copy of a checkpoint of many records runs on two connections, on
// two cores: the migration's own copies the records up to a split (half
// of them: it then merges, indexes and copies the other tables),
// a second one those after it into a file of its own (Part), beside;
// once both are copied, the first merges that file into the new one in
// the transaction of its last step. The new file's table
// migrate008_split holds the split and a token that Part holds too (a
// Part of another copy is never merged: it is emptied, or the copy
// starts again). Field ids stay the new file's: the second connection
// adds a name it meets first to the new file's fields table in a
// transaction of its own, before it commits a record using it.

// splitShare is the share of the records copied up to the split: half,
// since their values are read in C (cvals.go), where the part's merge
// costs half as much a record as their copy (it was 0.4 before).
const splitShare = 0.5

// splitBatches is how many batches a checkpoint holds at least for its
// copy to be split.
const splitBatches = 2

// Part is the file, beside the new file of the checkpoint at path, that
// the records after the split are copied into.
func Part(path string) string { return Next(path) + "-part2" }

// chooseSplit stores, in the transaction of the new file's first batch
// (the checkpoint attached as old), where its copy splits: none when the
// checkpoint holds fewer than splitBatches batches.
func chooseSplit(ctx context.Context, tx *sql.Tx, batch int) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM old.records`).Scan(&n); err != nil {
		return fmt.Errorf("count the records: %w", err)
	}
	if n < splitBatches*batch {
		return nil
	}
	var split string
	if err := tx.QueryRowContext(ctx, `SELECT reference FROM old.records ORDER BY reference LIMIT 1 OFFSET ?`,
		int(float64(n)*splitShare)).Scan(&split); err != nil {
		return fmt.Errorf("split the records: %w", err)
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return fmt.Errorf("split the records: %w", err)
	}
	for _, s := range []string{`CREATE TABLE main.migrate008_split (reference TEXT NOT NULL, token TEXT NOT NULL)`,
		`INSERT INTO main.migrate008_split (reference, token) VALUES (?, ?)`} {
		if _, err := tx.ExecContext(ctx, s, split, hex.EncodeToString(token)); err != nil {
			return fmt.Errorf("split the records: %w", err)
		}
	}
	return nil
}

// split is where the new file's copy splits: reference "" when it does
// not.
type split struct{ reference, token string }

// readSplit reads the split of the new file (main) in tx.
func readSplit(ctx context.Context, q DBTX) (split, error) {
	var has int
	var s split
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM main.sqlite_schema WHERE name = 'migrate008_split'`).Scan(&has); err != nil || has == 0 {
		return s, err
	}
	err := q.QueryRowContext(ctx, `SELECT reference, token FROM main.migrate008_split`).Scan(&s.reference, &s.token)
	return s, err
}

// mergePart copies the records of Part (attached as p2, its copy
// complete) after those of the new file, in the transaction of the
// copy's last step; a Part of another copy is ErrStale.
func mergePart(ctx context.Context, tx *sql.Tx, s split) (int, error) {
	var token string
	if err := tx.QueryRowContext(ctx, `SELECT token FROM p2.migrate008_part`).Scan(&token); err != nil {
		return 0, fmt.Errorf("merge the records after the split: %w", err)
	}
	if token != s.token {
		return 0, ErrStale
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO main.records_v8 (`+recordColumns+`)
		SELECT `+recordColumns+` FROM p2.records_v8 ORDER BY reference`)
	if err != nil {
		return 0, fmt.Errorf("merge the records after the split: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// recordColumns are records_v8's columns.
const recordColumns = `reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, crm_gone, row_sum`

// partCopy is the copy of the records after the split into Part, on a
// connection of its own, beside the migration's.
type partCopy struct {
	cancel context.CancelFunc
	done   chan error
	err    error
}

// startPart starts the copy of the records after s into Part; mode is
// the new file's synchronous setting.
func (m *Migration) startPart(ctx context.Context, s split, mode string) *partCopy {
	ctx, cancel := context.WithCancel(ctx)
	p := &partCopy{cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- m.copyPart(ctx, s, mode) }()
	return p
}

// wait waits for the copy's end: its error.
func (p *partCopy) wait() error {
	if p.done != nil {
		p.err, p.done = <-p.done, nil
	}
	return p.err
}

// stop stops the copy, when started, and waits for its end.
func (p *partCopy) stop() {
	if p != nil {
		p.cancel()
		p.wait()
	}
}

// copyPart copies the records after s into Part, a batch a transaction
// from the last one it holds, until the last; nothing once the new file
// is complete (another process's copy merged and removed Part).
func (m *Migration) copyPart(ctx context.Context, s split, mode string) error {
	busy := strconv.FormatInt(InstallWait.Milliseconds(), 10)
	part, next := Part(m.Path), Next(m.Path)
	fx, err := sql.Open("sqlite3", uri(next, "_txlock=immediate&_synchronous="+mode+"&_busy_timeout="+busy))
	if err != nil {
		return fmt.Errorf("open %s: %w", next, err)
	}
	defer fx.Close()
	fx.SetMaxOpenConns(1)
	px, err := sql.Open("sqlite3", uri(part, "_synchronous="+mode+"&_busy_timeout="+busy))
	if err != nil {
		return fmt.Errorf("open %s: %w", part, err)
	}
	defer px.Close()
	px.SetMaxOpenConns(1)
	conn, err := openPart(ctx, fx, px, part, s)
	if err != nil || conn == nil {
		return err
	}
	defer conn.Close()
	c, err := partCopier(ctx, fx)
	if err != nil {
		return err
	}
	if err := registerOn(conn, c); err != nil {
		return err
	}
	if err := attachOld(ctx, conn, m.Path); err != nil {
		return fmt.Errorf("copy into %s: %w", part, err)
	}
	for copied := 0; ; {
		n, err := copyPartBatch(ctx, conn, c, s, m.Batch)
		if err != nil {
			return fmt.Errorf("copy into %s: %w", part, err)
		}
		if copied += n; m.PartHook != nil && n > 0 {
			err = m.PartHook(copied)
		}
		if err != nil || n < m.Batch {
			return err
		}
	}
}

// copyPartBatch copies the next batch of the records after the split
// into Part (conn's main database) in one transaction: its first
// statement takes Part's write lock (waiting for another process's copy
// into it), then it reads where the last batch ended.
func copyPartBatch(ctx context.Context, conn *sql.Conn, c *Copier, s split, batch int) (int, error) {
	tx, err := conn.BeginTx(ctx, nil) // deferred: the UPDATE locks
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() // after Commit: nothing
	if _, err := tx.ExecContext(ctx, `UPDATE main.migrate008_part SET token = token`); err != nil {
		return 0, err
	}
	last, err := lastCopied(ctx, tx, s.reference)
	if err != nil {
		return 0, err
	}
	if err := c.prime(ctx, tx, last); err != nil { // the names given since the last batch too
		return 0, err
	}
	res, err := tx.ExecContext(ctx, copyToLast, last, batch)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return int(n), tx.Commit()
}

// openPart opens Part (px, at part) and readies it (preparePart) inside a read
// transaction of the new file (fx), which the last step's commit waits
// for: Part is created only while the new file is not complete, and the
// copy that completes it removes Part once committed (dropPart). None
// (nil) once the new file is complete.
func openPart(ctx context.Context, fx, px *sql.DB, part string, s split) (*sql.Conn, error) {
	guard, err := fx.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the records after the split: %w", err)
	}
	defer guard.Close()
	if _, err := guard.ExecContext(ctx, `BEGIN`); err != nil { // deferred: the read below takes the lock
		return nil, fmt.Errorf("open the records after the split: %w", err)
	}
	defer guard.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	var create string
	switch err := guard.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = 'records_v8'`).Scan(&create); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read the new file's schema: %w", err)
	}
	if err := createPrivate(part); err != nil {
		return nil, fmt.Errorf("open the records after the split: %w", err)
	}
	conn, err := px.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the records after the split: %w", err)
	}
	if err := preparePart(ctx, conn, create, s); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ready the records after the split: %w", err)
	}
	return conn, nil
}

// preparePart gives Part, once, the new file's records_v8 table (create)
// without its index, and the split's token; a Part of another copy is
// emptied.
func preparePart(ctx context.Context, conn *sql.Conn, create string, s split) error {
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrate008_part (token TEXT NOT NULL)`); err != nil {
		return err
	}
	var token string
	switch err := tx.QueryRowContext(ctx, `SELECT token FROM migrate008_part`).Scan(&token); {
	case err == nil && token == s.token:
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return err
	}
	for _, q := range []string{`DELETE FROM migrate008_part`, `DROP TABLE IF EXISTS records_v8`, create,
		`INSERT INTO migrate008_part (token) VALUES ('` + s.token + `')`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// attachPart attaches Part to conn as p2, as it is: false when there is
// none (removed by the copy that completed the new file, or by hand).
func attachPart(ctx context.Context, conn *sql.Conn, path string) (bool, error) {
	if _, err := os.Stat(Part(path)); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS p2`, uri(Part(path), "mode=rw")); err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrCantOpen {
			return false, nil
		}
		return false, fmt.Errorf("open %s: %w", Part(path), err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA p2.mmap_size = `+strconv.Itoa(MapSizeFor(path))); err != nil {
		return true, fmt.Errorf("open %s: %w", Part(path), err)
	}
	return true, nil
}

// removePart removes Part and its journal.
func removePart(path string) error {
	for _, p := range []string{Part(path), Part(path) + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// partCopier is the Copier of the records after the split: the new
// file's field ids, a name new to them added to its fields table at once
// (fx: the new file).
func partCopier(ctx context.Context, fx *sql.DB) (*Copier, error) {
	c := &Copier{ids: map[string]uint64{}}
	if err := loadIDs(ctx, fx, c); err != nil {
		return nil, err
	}
	c.alloc = func(name string) (uint64, error) {
		tx, err := fx.BeginTx(ctx, nil)
		if err != nil {
			return 0, fmt.Errorf("add field %q: %w", name, err)
		}
		defer tx.Rollback()
		var id uint64
		if _, err := tx.ExecContext(ctx, `INSERT INTO fields (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return 0, fmt.Errorf("add field %q: %w", name, err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM fields WHERE name = ?`, name).Scan(&id); err != nil {
			return 0, fmt.Errorf("add field %q: %w", name, err)
		}
		return id, tx.Commit()
	}
	return c, nil
}

// createPrivate creates the file at path, when absent, readable by its
// owner only: SQLite would create it 0644, and the copies hold every
// customer's values, as the checkpoint does.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
