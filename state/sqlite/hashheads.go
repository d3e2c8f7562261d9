package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"

	"erpsync/state/rawscan"
)

// sqlHashHeads reads each record's reference, hash head and row sum from
// the narrow records_hash index: SQLite no longer writes 64 hex digits.
const sqlHashHeads = `SELECT reference, CASE WHEN typeof(hash) = 'blob' THEN substr(hash, 1, 8) ELSE substr(hash, 1, 16) END,
	row_sum FROM records INDEXED BY records_hash ORDER BY reference`

// HashHeads streams every managed reference, ordered by reference (byte
// order), with the head of its hash and its row sum (as HashSumsBetween
// gives them), read below database/sql (rawscan): head is the hash's
// first 8 bytes when raw (a sha256 stored as its bytes), else the first
// 16 characters of its text; valid during fn only. An error returned by
// fn stops the stream and is returned as is.
func (db *DB) HashHeads(ctx context.Context, fn func(ref string, head []byte, raw bool, sum uint64) error) error {
	byFn, err := rawscan.Each(ctx, db.ro, sqlHashHeads, func(row []driver.Value) error {
		ref, ok := row[0].(string)
		if !ok {
			return fmt.Errorf("a reference read as %T", row[0])
		}
		head, raw := row[1].([]byte)
		if s, ok := row[1].(string); ok {
			head = []byte(s)
		}
		sum, _ := row[2].(int64)
		return fn(ref, head, raw, uint64(sum))
	})
	if err != nil && !byFn {
		return db.fail("read hashes", err)
	}
	return err
}
