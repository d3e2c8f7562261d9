package sqlite

import (
	"context"
	"fmt"
)

// A record's values are stored in package compact's encoding (since
// migration 008), by the ids of the checkpoint's fields table (db.fields).

// decodeValues reads the stored values pushed; never nil.
func (db *DB) decodeValues(ctx context.Context, b []byte) (map[string]string, error) {
	v, _, err := db.fields.Decode(ctx, db.ro, b, nil)
	if err != nil {
		return nil, fmt.Errorf("decode values: %w", err)
	}
	return v, nil
}

// decodeBoth reads the stored values pushed and the CRM's stored beside
// them; never nil.
func (db *DB) decodeBoth(ctx context.Context, vals, crm []byte) (map[string]string, map[string]string, error) {
	if crm == nil {
		crm = []byte{}
	}
	v, c, err := db.fields.Decode(ctx, db.ro, vals, crm)
	if err != nil {
		return nil, nil, fmt.Errorf("decode values: %w", err)
	}
	return v, c, nil
}
