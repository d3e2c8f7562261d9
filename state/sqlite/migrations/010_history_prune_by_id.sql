-- The history pruned by id, not by time (issue 24 §2): events are
-- appended in time order, so the first event to keep is found by a
-- binary search over ids (state/history.go, pruneHistory). The index on
-- time cost every event of every save, for a prune that seldom removes
-- anything; history_reference stays, for `why`.
DROP INDEX IF EXISTS history_at;
