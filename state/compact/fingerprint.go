package compact

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrStale is a new file written from a checkpoint that changed since:
// an older erpsync ran on it meanwhile. The migration copies it again.
var ErrStale = errors.New("the checkpoint changed since its copy into the new file began")

// fingerprints are the queries, a table, of a checkpoint's fingerprint:
// each erpsync write changes one of them (a run starts and ends with
// its row; deleted, failures, unmanaged and history rows are added or
// replaced; the watermark and the other meta rows are rewritten). S is
// the schema. The lock (heartbeats) and the migrations are left out.
var fingerprints = []struct{ table, query string }{
	{"runs", `SELECT count(*) || '/' || coalesce(max(id), '') || '/' || coalesce((SELECT status || '/' || ended || '/' || length(counts)
		FROM S.runs ORDER BY id DESC LIMIT 1), '') FROM S.runs`},
	{"records", `SELECT coalesce(max(reference), '') FROM S.records`},
	{"deleted", `SELECT count(*) || '/' || coalesce(max(id), '') FROM S.deleted`},
	{"failures", `SELECT count(*) || '/' || coalesce(max(rowid), '') || '/' || coalesce(max(at), '') FROM S.failures`},
	{"unmanaged", `SELECT count(*) || '/' || coalesce(max(crm_id), '') || '/' || coalesce(max(crm_last_updated), '') FROM S.unmanaged`},
	// history is appended to and pruned from its oldest: its first and
	// last ids say both, with no count of what may be millions of rows
	// at every batch.
	{"history", `SELECT coalesce(min(rowid), '') || '/' || coalesce(max(rowid), '') FROM S.history`},
	{"meta", `SELECT coalesce(group_concat(key || '=' || value, ';'), '') FROM (SELECT key, value FROM S.meta ORDER BY key)`},
}

// Fingerprint is the fingerprint of the checkpoint in schema ("main",
// "old"): equal before and after any sequence of erpsync writes only
// when there was none. Read inside a transaction of the checkpoint.
// counted adds the count of its records (a read of a whole index: left
// out of the comparison at each batch, done once the copy is complete).
func Fingerprint(ctx context.Context, q DBTX, schema string, counted bool) (string, error) {
	var b strings.Builder
	all := fingerprints
	if counted {
		all = append(all[:len(all):len(all)], struct{ table, query string }{"records", `SELECT count(*) FROM S.records`})
	}
	for _, f := range all {
		var has int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+schema+`.sqlite_schema WHERE type = 'table' AND name = ?`, f.table).
			Scan(&has); err != nil {
			return "", fmt.Errorf("fingerprint of %s: %w", schema, err)
		}
		v := "-"
		if has > 0 {
			if err := q.QueryRowContext(ctx, strings.ReplaceAll(f.query, "S.", schema+".")).Scan(&v); err != nil {
				return "", fmt.Errorf("fingerprint of %s.%s: %w", schema, f.table, err)
			}
		}
		b.WriteString(f.table + ":" + v + "\n")
	}
	return b.String(), nil
}
