package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Keys of the meta table.
const (
	metaWatermark   = "watermark"
	metaFingerprint = "fingerprint"
	metaVerified    = "verified_until"
	metaFullCheck   = "full_check"
)

// meta reads a meta value ("" when absent).
func (db *DB) meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.ro.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", db.fail("read "+key, err)
	}
	return v, nil
}

// setMeta writes a meta value.
func (db *DB) setMeta(ctx context.Context, key, value string) error {
	_, err := db.rw.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return db.fail("write "+key, err)
	}
	return nil
}

// Watermark is where the next refresh from the CRM starts (lastUpdated_gte);
// the zero time when none was ever set.
func (db *DB) Watermark(ctx context.Context) (time.Time, error) {
	v, err := db.meta(ctx, metaWatermark)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("read watermark: %w", err)
	}
	return t, nil
}

// SetWatermark stores the refresh watermark, in UTC, truncated to the
// second (the CRM's resolution; truncating only makes the next refresh
// look a little further back).
func (db *DB) SetWatermark(ctx context.Context, t time.Time) error {
	return db.setMeta(ctx, metaWatermark, t.UTC().Format(time.RFC3339))
}

// Fingerprint is the mapping fingerprint stored by the last finished run;
// "" when none.
func (db *DB) Fingerprint(ctx context.Context) (string, error) {
	return db.meta(ctx, metaFingerprint)
}

// SetFingerprint stores the mapping fingerprint.
func (db *DB) SetFingerprint(ctx context.Context, fp string) error {
	return db.setMeta(ctx, metaFingerprint, fp)
}

// metaTime reads a time of the meta table; the zero time when absent.
func (db *DB) metaTime(ctx context.Context, key string) (time.Time, error) {
	v, err := db.meta(ctx, key)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("read %s: %w", key, err)
	}
	return t, nil
}

// VerifiedUntil is the CRM time before which every customer was read or
// counted by a finished run: changes there since can only be departures
// (a deletion, or an edit that moved a record to a later lastUpdated).
// The zero time when no run recorded it.
func (db *DB) VerifiedUntil(ctx context.Context) (time.Time, error) {
	return db.metaTime(ctx, metaVerified)
}

// SetVerifiedUntil stores VerifiedUntil, in UTC, to the second.
func (db *DB) SetVerifiedUntil(ctx context.Context, t time.Time) error {
	return db.setMeta(ctx, metaVerified, t.UTC().Format(time.RFC3339))
}

// FullCheck is when a run last walked every customer of the CRM (or when
// the counting began); the zero time when never.
func (db *DB) FullCheck(ctx context.Context) (time.Time, error) {
	return db.metaTime(ctx, metaFullCheck)
}

// SetFullCheck stores when a run last walked every customer.
func (db *DB) SetFullCheck(ctx context.Context, t time.Time) error {
	return db.setMeta(ctx, metaFullCheck, t.UTC().Format(time.RFC3339))
}
