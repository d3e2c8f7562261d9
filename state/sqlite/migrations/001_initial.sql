-- The checkpoint: what erpsync pushed to the CRM, and what it saw there.
CREATE TABLE records (
    reference        TEXT PRIMARY KEY,
    hash             TEXT NOT NULL,
    vals             TEXT NOT NULL,          -- JSON: canonical values last pushed
    crm_id           INTEGER NOT NULL DEFAULT 0,
    crm_last_updated INTEGER NOT NULL DEFAULT 0, -- unix seconds
    crm_vals         TEXT NOT NULL DEFAULT '{}', -- JSON: canonical values last seen in the CRM
    pushed_at        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE failures (
    reference TEXT PRIMARY KEY,
    run_id    INTEGER NOT NULL,
    op        TEXT NOT NULL,
    line      INTEGER NOT NULL,
    status    INTEGER NOT NULL,
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    at        INTEGER NOT NULL
);

CREATE TABLE deleted (
    id         INTEGER PRIMARY KEY,
    reference  TEXT NOT NULL,
    crm_id     INTEGER NOT NULL,
    copy       TEXT NOT NULL,              -- the CRM's last JSON copy
    run_id     INTEGER NOT NULL,
    deleted_at INTEGER NOT NULL
);
CREATE INDEX deleted_reference ON deleted (reference);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    file        TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    status      TEXT NOT NULL,
    started     INTEGER NOT NULL,
    ended       INTEGER NOT NULL DEFAULT 0,
    counts      TEXT NOT NULL DEFAULT '{}',
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_sha ON runs (file_sha256);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE lock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    pid   INTEGER NOT NULL,
    host  TEXT NOT NULL,
    kind  TEXT NOT NULL,
    since INTEGER NOT NULL
);
