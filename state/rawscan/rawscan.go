// Package rawscan reads a query's rows from the database driver itself,
// below database/sql: no step of database/sql's a row and no conversion
// of each value into a Go destination (issue 25 §3: the plan's read of a
// million records' hashes). The values are the driver's, valid until
// the next row.
package rawscan

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
)

// Each runs query (with no arguments) on a connection of db and calls fn
// with each row's values, in order. An error returned by fn stops the
// read and is returned as is; byFn says whether the error is fn's.
func Each(ctx context.Context, db *sql.DB, query string, fn func(row []driver.Value) error) (byFn bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the driver cannot query")
		}
		rows, err := q.QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		row := make([]driver.Value, len(rows.Columns()))
		for {
			if err := rows.Next(row); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			if err := fn(row); err != nil {
				byFn = true
				return err
			}
		}
	})
	return byFn, err
}
