-- A checkpoint sized for millions (issue 25 §4): a record's values in a
-- compact encoding (compact.go) instead of JSON with every key name, the
-- CRM's values kept only where they differ from the pushed ones, a
-- sha256 hash as its 32 bytes. The records are copied into records_v8 in
-- batches, each committed (migrate008.go): a migration stopped half-way
-- goes on from the last reference copied when the checkpoint is opened
-- again. The statements after the copy mark run with the last batch, in
-- its transaction; then VACUUM gives the old pages back, and the indexes
-- are built on the compacted file, with the migration's row.
CREATE TABLE IF NOT EXISTS fields (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS records_v8 (
    reference        TEXT PRIMARY KEY,
    hash             BLOB NOT NULL,           -- 32 bytes: a sha256 in hex; else the text
    vals             BLOB NOT NULL,           -- the values last pushed: (field id, length, bytes)...
    crm_id           INTEGER NOT NULL DEFAULT 0,
    crm_last_updated INTEGER NOT NULL DEFAULT 0, -- unix milliseconds
    crm_vals         BLOB NOT NULL DEFAULT x'', -- the CRM's values where they differ from vals
    pushed_at        INTEGER NOT NULL,
    crm_gone         INTEGER NOT NULL DEFAULT 0,
    row_sum          INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- copy --
DROP TABLE records;
ALTER TABLE records_v8 RENAME TO records;
-- compacted --
CREATE INDEX IF NOT EXISTS records_hash ON records (reference, hash, row_sum);
CREATE INDEX IF NOT EXISTS records_known ON records (crm_gone, crm_last_updated, crm_id);
