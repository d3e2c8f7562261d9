package compact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// Copier is migration 008's copy, done inside SQLite: its functions,
// registered on the writing connection, encode the JSON values of one
// INSERT ... SELECT a batch, without a trip through database/sql a
// record (a third of the copy's time was those trips).
type Copier struct {
	ids     map[string]uint64
	next    uint64
	pending []string // names given an id in this batch, not yet in fields
	buf     []byte
	// order is the names of the last values read, in their order, and
	// pos the place in it of the next name: json.Marshal wrote every
	// record's keys sorted, so most names are found there, compared
	// instead of hashed.
	order []named
	pos   int
	// alloc, when set, gives a name new to ids its id at once, committed
	// in the new file's fields table by a connection of its own (the
	// copy of the records after the split, split.go); else the name is
	// pending, added to the fields table by CopyBatch in its transaction.
	alloc func(name string) (uint64, error)
}

// named is a field name and its id.
type named struct {
	name string
	id   uint64
}

// Register registers the copier's functions on conn.
func (c *Copier) Register(conn *sqlite3.SQLiteConn) error {
	if err := conn.RegisterFunc("erpsync_vals008", c.vals, false); err != nil {
		return err
	}
	return conn.RegisterFunc("erpsync_crm008", c.diff, false)
}

func (c *Copier) id(name []byte) (uint64, error) {
	if id, ok := c.ids[string(name)]; ok {
		return id, nil
	}
	if c.alloc != nil {
		id, err := c.alloc(string(name))
		if err == nil {
			c.ids[string(name)] = id
		}
		return id, err
	}
	c.next++
	c.ids[string(name)] = c.next
	c.pending = append(c.pending, string(name))
	return c.next, nil
}

// inOrder is the id of the name at c.pos of the values being read.
func (c *Copier) inOrder(name []byte) (uint64, error) {
	i := c.pos
	c.pos++
	if i < len(c.order) && c.order[i].name == string(name) {
		return c.order[i].id, nil
	}
	id, err := c.id(name)
	if err != nil {
		// Not cached: a name alloc failed to add would be id 0 to the
		// next read (the Go function's), the record unreadable.
		return 0, err
	}
	if i < len(c.order) {
		c.order[i] = named{string(name), id}
	} else {
		c.order = append(c.order, named{string(name), id})
	}
	return id, nil
}

// vals is erpsync_vals008(vals): the stored form of JSON values pushed.
func (c *Copier) vals(js []byte) ([]byte, error) {
	c.pos = 0
	b, err := fromJSON(c.buf[:0], js, c.inOrder)
	c.buf = b
	return b, err
}

// diff is erpsync_crm008(vals, crm_vals): the stored form of the CRM's
// JSON values beside the JSON values pushed.
func (c *Copier) diff(vals, crm []byte) ([]byte, error) {
	b, err := diffJSON(c.buf[:0], vals, crm, func(s string) (uint64, error) { return c.id([]byte(s)) })
	c.buf = b
	return b, err
}

// copyRecords copies the next batch; the pushed values are encoded by
// the C function where it can (cvals.go: most records), by Go's
// otherwise; the CRM's copy is decoded only where
// it is not the pushed values' bytes (most records); a hash of 64
// lowercase hex digits becomes its 32 bytes, as Hash does (a C function
// too: SQLite's lower, unhex and length took some 2% of the migration).
// (A function answering nothing answers NULL: coalesce.) Its
// range starts after its first argument (the last record copied, read
// before: a SELECT that reads the table it inserts into has SQLite
// write its rows into a temporary table first, a quarter of SQLite's
// work in the copy); %s bounds it (its argument before the LIMIT's).
const copyRecords = `INSERT INTO main.records_v8 (reference, hash, vals, crm_id, crm_last_updated, crm_vals, pushed_at, crm_gone, row_sum)
	SELECT reference,
		erpsync_hash008c(hash),
		coalesce(erpsync_vals008c(vals), erpsync_vals008(vals), x''), crm_id, crm_last_updated,
		CASE WHEN crm_vals = vals THEN x'' ELSE coalesce(erpsync_crm008(vals, crm_vals), x'') END,
		pushed_at, crm_gone, row_sum
	FROM old.records WHERE reference > ? %s
	ORDER BY reference LIMIT ?`

// The ranges of copyRecords: to the last record (the records after the
// split, split.go, or all), up to the split (its argument).
var (
	copyToLast = fmt.Sprintf(copyRecords, ``)
	copyLower  = fmt.Sprintf(copyRecords, `AND reference <= ?`)
)

// lastCopied is the last reference that main.records_v8 holds, or from
// when it holds none.
func lastCopied(ctx context.Context, q DBTX, from string) (string, error) {
	var last string
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(reference), ?) FROM main.records_v8`, from).Scan(&last); err != nil {
		return "", fmt.Errorf("read the last record copied: %w", err)
	}
	return last, nil
}

// CopyBatch is a batch of migration 008, in its transaction on the
// connection c is registered on, whose main database is the new file and
// the checkpoint is attached as old: it copies up to batch records of
// old's records table (values as JSON) after the last one records_v8
// holds, in reference order, up to split when it is not "", into the new
// file's records_v8 (values in this encoding), and adds the new field
// names to its fields table. It returns how many it copied: fewer than
// batch, it copied the last (of its range).
func (c *Copier) CopyBatch(ctx context.Context, tx *sql.Tx, batch int, split string) (int, error) {
	c.ids, c.next, c.pending, c.order = map[string]uint64{}, 0, c.pending[:0], c.order[:0]
	if err := loadIDs(ctx, tx, c); err != nil {
		return 0, err
	}
	last, err := lastCopied(ctx, tx, "")
	if err != nil {
		return 0, err
	}
	if err := c.prime(ctx, tx, last); err != nil {
		return 0, err
	}
	query, args := copyToLast, []any{last, batch}
	if split != "" {
		query, args = copyLower, []any{last, split, batch}
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("copy records: %w", err)
	}
	for _, name := range c.pending {
		if _, err := tx.ExecContext(ctx, `INSERT INTO main.fields (id, name) VALUES (?, ?)`, c.ids[name], name); err != nil {
			return 0, fmt.Errorf("add field %q: %w", name, err)
		}
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// prime gives the names of the values of the first record after last
// their ids (new ones: pending, or alloc's), then the C function all the
// ids known (loadCNames), so that it takes the batch from its first
// record: on a new file it knows no name. A record it cannot read is
// left to the batch's copy, which meets the same record and fails on it;
// a name alloc could not add is its error.
func (c *Copier) prime(ctx context.Context, q DBTX, last string) error {
	var js []byte
	switch err := q.QueryRowContext(ctx, `SELECT vals FROM old.records WHERE reference > ? ORDER BY reference LIMIT 1`, last).Scan(&js); {
	case err == nil:
		c.pos = 0
		var idErr error
		_, _ = fromJSON(nil, js, func(name []byte) (uint64, error) {
			id, err := c.inOrder(name)
			if err != nil && idErr == nil {
				idErr = err
			}
			return id, err
		})
		if idErr != nil {
			return fmt.Errorf("read the field names: %w", idErr)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("read the field names: %w", err)
	}
	return loadCNames(ctx, q, c.ids)
}

// loadIDs reads the fields table of the main database of q into c.
func loadIDs(ctx context.Context, q Querier, c *Copier) error {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM main.fields`)
	if err != nil {
		return fmt.Errorf("read field names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("read field names: %w", err)
		}
		c.ids[name], c.next = id, max(c.next, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read field names: %w", err)
	}
	return nil
}

// registerOn registers c's functions on the connection conn.
func registerOn(conn *sql.Conn, c *Copier) error {
	if err := conn.Raw(func(dc any) error { return c.Register(dc.(*sqlite3.SQLiteConn)) }); err != nil {
		return fmt.Errorf("copy records: %w", err)
	}
	return nil
}
