package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
)

// sqlValuesOf reads the values of the references listed in a JSON array,
// each found by its key in records (one search of the index each).
const sqlValuesOf = `SELECT reference, vals FROM records WHERE reference IN (SELECT value FROM json_each(?1))`

// ValuesOf is Values for many references at once, in one statement (a
// plan reads the values last pushed of its updates and deletes: 15,000
// of them on day 2 of a million, a query each took 0.55 CPU s). fn is
// called once for each managed reference of refs, in no given order; a
// reference erpsync does not manage is left out. An error returned by fn
// stops the read and is returned as is. refs are at most a few hundred:
// their rows are held in memory at once.
func (db *DB) ValuesOf(ctx context.Context, refs []string, fn func(ref string, vals map[string]string) error) error {
	if len(refs) == 0 {
		return nil
	}
	list, err := json.Marshal(refs)
	if err != nil {
		return fmt.Errorf("read values: %w", err)
	}
	type stored struct {
		ref  string
		vals []byte
	}
	// The rows are read whole and closed before any is decoded: decoding
	// may read the field names (a fresh process's Dict), which takes a
	// connection of its own. A batch holding its connection meanwhile,
	// with every other one held by the other cores' batches, waited
	// forever.
	var batch []stored
	err = func() error {
		rows, err := db.ro.QueryContext(ctx, sqlValuesOf, string(list))
		if err != nil {
			return db.fail("read values", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r stored
			if err := rows.Scan(&r.ref, &r.vals); err != nil {
				return db.fail("read values", err)
			}
			batch = append(batch, r)
		}
		if err := rows.Err(); err != nil {
			return db.fail("read values", err)
		}
		return nil
	}()
	if err != nil {
		return err
	}
	for _, r := range batch {
		out, err := db.decodeValues(ctx, r.vals)
		if err != nil {
			return fmt.Errorf("values of %s: %w", r.ref, err)
		}
		if err := fn(r.ref, out); err != nil {
			return err
		}
	}
	return nil
}
