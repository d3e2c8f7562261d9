-- A checkpoint sized for millions (issue 25 §4): a record's values in a
-- compact encoding (compact.go) instead of JSON with every key name, the
-- CRM's values kept only where they differ from the pushed ones, a
-- sha256 hash as its 32 bytes. A checkpoint with records is copied into
-- a new file beside it (migrate008.go): its other tables as they are,
-- the records into records_v8 in batches, each committed, so that a
-- migration stopped half-way goes on from the last reference copied when
-- the checkpoint is opened again; the statements after the copy mark and
-- the rows of the other tables go with the last batch, in its
-- transaction; then the new file is copied over the checkpoint in one
-- transaction. A checkpoint without records is migrated in place. Every
-- name is main's: the checkpoint is attached to the new file as old.
CREATE TABLE IF NOT EXISTS main.fields (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS main.records_v8 (
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
-- Built as the records are copied, in its order (cheaper than after).
CREATE INDEX IF NOT EXISTS main.records_hash ON records_v8 (reference, hash, row_sum);
-- copy --
DROP TABLE IF EXISTS main.records;
ALTER TABLE main.records_v8 RENAME TO records;
-- compacted --
CREATE INDEX IF NOT EXISTS main.records_hash ON records (reference, hash, row_sum);
CREATE INDEX IF NOT EXISTS main.records_known ON records (crm_gone, crm_last_updated, crm_id);
