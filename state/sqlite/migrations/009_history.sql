-- A customer's history (issue 24): what each run did and saw of a
-- reference, written at the run's end, one row an event; only what
-- changed, never an unchanged customer. Kept state.history (400 days by
-- default), pruned at each save.
CREATE TABLE history (
    id        INTEGER PRIMARY KEY,
    reference TEXT    NOT NULL,
    run_id    INTEGER NOT NULL,
    at        INTEGER NOT NULL,          -- unix seconds
    kind      TEXT    NOT NULL,          -- created, updated, deleted, refused, drift, deleted_by_hand
    op        TEXT    NOT NULL DEFAULT '',
    file      TEXT    NOT NULL DEFAULT '',
    line      INTEGER NOT NULL DEFAULT 0,
    changes   TEXT    NOT NULL DEFAULT '', -- JSON [{field, old, new}]
    status    INTEGER NOT NULL DEFAULT 0,  -- the CRM's HTTP status
    answer    TEXT    NOT NULL DEFAULT '',
    policy    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX history_reference ON history (reference, id);
CREATE INDEX history_at ON history (at);
