-- A narrow copy of (reference, hash), in reference order: a plan streams
-- the hashes of every managed record without reading their values.
CREATE INDEX records_hash ON records (reference, hash);
