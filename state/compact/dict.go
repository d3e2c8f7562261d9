package compact

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"erpsync/state"
)

// Dict is a checkpoint's fields table (id INTEGER PRIMARY KEY, name TEXT
// UNIQUE) in memory: a Tx adds names in the checkpoint's write
// transactions, readers look ids up and read the table (again) for an id
// they do not know (the first, or one another process added). Its zero
// value is not usable: NewDict.
type Dict struct {
	mu    sync.RWMutex
	ids   map[string]uint64
	names map[uint64]string
}

// NewDict returns an empty Dict: it reads the table when first asked.
func NewDict() *Dict {
	return &Dict{ids: map[string]uint64{}, names: map[uint64]string{}}
}

// Querier reads the fields table: a pool or a transaction.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// load reads the fields table into d.
func (d *Dict) load(ctx context.Context, q Querier) error {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM fields`)
	if err != nil {
		return fmt.Errorf("read field names: %w", err)
	}
	defer rows.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	for rows.Next() {
		var id uint64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("read field names: %w", err)
		}
		d.ids[name], d.names[id] = id, name
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read field names: %w", err)
	}
	return nil
}

// Name returns the name of a field id, reading the table through q when
// the id is not known yet.
func (d *Dict) Name(ctx context.Context, q Querier, id uint64) (string, error) {
	d.mu.RLock()
	name, ok := d.names[id]
	d.mu.RUnlock()
	if ok {
		return name, nil
	}
	if err := d.load(ctx, q); err != nil {
		return "", err
	}
	d.mu.RLock()
	name, ok = d.names[id]
	d.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("field id %d is not in the fields table", id)
	}
	return name, nil
}

// Tx encodes values inside one write transaction: names new to the
// checkpoint are added to its fields table in that transaction, and to
// the Dict only once it commits (Commit).
type Tx struct {
	ctx   context.Context
	tx    *sql.Tx
	d     *Dict
	added map[string]uint64
	seen  map[string]uint64 // the ids this Tx looked up, without the lock
	buf   []byte            // scratch of the last encoding
	dbuf  []byte            // scratch of the last record's CRM values (Record, Fields)
	names []string          // the names of the last Fields, shared: ids are theirs
	ids   []uint64
}

// Begin returns the encoder of a write transaction.
func (d *Dict) Begin(ctx context.Context, tx *sql.Tx) *Tx {
	return &Tx{ctx: ctx, tx: tx, d: d}
}

// Commit makes the names added in the transaction, committed, known.
func (t *Tx) Commit() {
	if t == nil || len(t.added) == 0 {
		return
	}
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	for name, id := range t.added {
		t.d.ids[name], t.d.names[id] = id, name
	}
	t.added = nil
}

// ID returns the id of a field name, adding the name to the table: an
// IDs.
func (t *Tx) ID(name string) (uint64, error) {
	if id, ok := t.seen[name]; ok {
		return id, nil
	}
	if t.seen == nil {
		t.seen = map[string]uint64{}
	}
	t.d.mu.RLock()
	id, ok := t.d.ids[name]
	t.d.mu.RUnlock()
	if ok {
		t.seen[name] = id
		return id, nil
	}
	// Another process may have added it since the table was read.
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO fields (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, name); err != nil {
		return 0, fmt.Errorf("add field %q: %w", name, err)
	}
	if err := t.tx.QueryRowContext(t.ctx, `SELECT id FROM fields WHERE name = ?`, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("add field %q: %w", name, err)
	}
	if t.added == nil {
		t.added = map[string]uint64{}
	}
	t.added[name], t.seen[name] = id, id
	return id, nil
}

// scratch is the encoding's buffer, emptied; never nil (nil is NULL).
func (t *Tx) scratch() []byte {
	if t.buf == nil {
		t.buf = make([]byte, 0, 512)
	}
	return t.buf[:0]
}

// Values returns the stored form of the values pushed, valid until the
// next call.
func (t *Tx) Values(m map[string]string) ([]byte, error) {
	b, err := AppendValues(t.scratch(), m, t.ID)
	t.buf = b
	return b, err
}

// Diff returns the stored form of the CRM's values crm beside the values
// pushed vals, valid until the next call.
func (t *Tx) Diff(vals, crm map[string]string) ([]byte, error) {
	b, err := AppendDiff(t.scratch(), vals, crm, t.ID)
	t.buf = b
	return b, err
}

// Record returns the stored forms of a record's values pushed and of the
// CRM's values crm beside them (AppendRecord), never nil (nil is NULL),
// valid until the next call.
func (t *Tx) Record(vals, crm map[string]string) ([]byte, []byte, error) {
	if t.dbuf == nil {
		t.dbuf = make([]byte, 0, 128)
	}
	v, d, err := AppendRecord(t.scratch(), t.dbuf[:0], vals, crm, t.ID)
	if err != nil {
		return nil, nil, err
	}
	t.buf, t.dbuf = v, d
	return v, d, nil
}

// Fields returns the stored forms of the values of an upsert given in
// order, and of the CRM's beside them (AppendFields), as Record does;
// the ids of names are looked up once a batch (a Tx) while the outcomes
// share one slice of names (the customers of one read do).
func (t *Tx) Fields(p *state.Pushed) ([]byte, []byte, error) {
	if len(p.Vals) != len(p.Names) {
		return nil, nil, fmt.Errorf("%d values for %d fields", len(p.Vals), len(p.Names))
	}
	for i, h := range p.Held {
		if h.At < 0 || h.At >= len(p.Names) || (i > 0 && h.At <= p.Held[i-1].At) {
			return nil, nil, fmt.Errorf("the CRM's field %d of %d held out of order or range", h.At, len(p.Names))
		}
	}
	if len(t.names) != len(p.Names) || len(p.Names) == 0 || &t.names[0] != &p.Names[0] {
		ids := make([]uint64, len(p.Names))
		for i, name := range p.Names {
			id, err := t.ID(name)
			if err != nil {
				return nil, nil, err
			}
			ids[i] = id
		}
		t.names, t.ids = p.Names, ids
	}
	if t.dbuf == nil {
		t.dbuf = make([]byte, 0, 128)
	}
	t.buf, t.dbuf = AppendFields(t.scratch(), t.dbuf[:0], t.ids, p.Vals, p.Held)
	return t.buf, t.dbuf, nil
}

// Decode reads stored values pushed (vals) and, when crm is not nil, the
// CRM's stored beside them; the maps are never nil. Names are read
// through q.
func (d *Dict) Decode(ctx context.Context, q Querier, vals, crm []byte) (map[string]string, map[string]string, error) {
	v := make(map[string]string, 16)
	err := Walk(vals, false, func(id uint64, s string, _ bool) error {
		name, err := d.Name(ctx, q, id)
		v[name] = s
		return err
	})
	if err != nil || crm == nil {
		return v, nil, err
	}
	c := make(map[string]string, len(v))
	if len(crm) == 1 && crm[0] == noCRM {
		return v, c, nil
	}
	for k, s := range v {
		c[k] = s
	}
	err = Walk(crm, true, func(id uint64, s string, absent bool) error {
		name, err := d.Name(ctx, q, id)
		if absent {
			delete(c, name)
		} else {
			c[name] = s
		}
		return err
	})
	return v, c, err
}
