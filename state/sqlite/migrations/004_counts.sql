-- Counts, not re-reads (issue 14). A refresh compares the CRM's count of
-- customers per lastUpdated window with what the checkpoint expects: the
-- managed records still present in the CRM, plus the customers erpsync
-- does not manage but has seen (created by hand or by others: counted,
-- never touched).
CREATE TABLE unmanaged (
    crm_id           INTEGER PRIMARY KEY,
    reference        TEXT NOT NULL DEFAULT '',
    crm_last_updated INTEGER NOT NULL -- unix seconds
);
CREATE INDEX unmanaged_last_updated ON unmanaged (crm_last_updated);
CREATE INDEX unmanaged_reference ON unmanaged (reference);
-- A managed customer found deleted by hand in the CRM: when it was found
-- (unix seconds), 0 while it is there. Such a record is not expected in
-- the counts; the next successful push or sighting clears it.
ALTER TABLE records ADD COLUMN crm_gone INTEGER NOT NULL DEFAULT 0;
-- Window counts and window reads: records by the CRM's lastUpdated.
CREATE INDEX records_last_updated ON records (crm_last_updated);
