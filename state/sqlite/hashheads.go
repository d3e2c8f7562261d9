package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"

	"erpsync/state/rawscan"
)

// sqlHashHeads reads each record's reference, hash and row sum from the
// narrow records_hash index, as stored: SQLite writes no 64 hex digits,
// and calls no function a record (typeof and substr cost more than the
// copy of 32 bytes they spared): HashHeads cuts the head.
const sqlHashHeads = `SELECT reference, hash, row_sum FROM records INDEXED BY records_hash ORDER BY reference`

// Heads' lengths: of a hash stored raw (compact.Hash: a sha256's bytes),
// and of one kept as text.
const (
	rawHead  = 8
	textHead = 16
)

// HashHeads streams every managed reference, ordered by reference (byte
// order), with the head of its hash and its row sum (as HashSumsBetween
// gives them), read below database/sql (rawscan): head is the hash's
// first 8 bytes when raw (a sha256 stored as its bytes), else the first
// 16 bytes of its text (hex digits: characters); valid during fn only. An error returned by
// fn stops the stream and is returned as is.
func (db *DB) HashHeads(ctx context.Context, fn func(ref string, head []byte, raw bool, sum uint64) error) error {
	byFn, err := rawscan.Each(ctx, db.ro, sqlHashHeads, func(row []driver.Value) error {
		ref, ok := row[0].(string)
		if !ok {
			return fmt.Errorf("a reference read as %T", row[0])
		}
		head, raw := row[1].([]byte)
		if raw {
			head = head[:min(len(head), rawHead)]
		} else if s, ok := row[1].(string); ok {
			head = []byte(s[:min(len(s), textHead)])
		}
		sum, _ := row[2].(int64)
		return fn(ref, head, raw, uint64(sum))
	})
	if err != nil && !byFn {
		return db.fail("read hashes", err)
	}
	return err
}
