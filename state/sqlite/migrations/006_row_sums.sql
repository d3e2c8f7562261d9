-- Row sums (issue 14 §2): the sum of the export row a record was last
-- pushed from (mapping's rowsum.go), 0 when unknown or when the row was
-- not plain. A plan skips mapping a row whose sum is the one kept here.
-- The plan streams (reference, hash, row_sum) from this index alone, as it
-- streamed (reference, hash) from the one it replaces.
ALTER TABLE records ADD COLUMN row_sum INTEGER NOT NULL DEFAULT 0;
DROP INDEX records_hash;
CREATE INDEX records_hash ON records (reference, hash, row_sum);
