-- Braid schema, version 11: the wake-up scan reads sleeping runs with a keyset cursor.
--
-- The scan reads due runs in batches in (wake_at, id) order and starts each batch after the last
-- run of the one before (listRunsToWake's `after`), so it reads the next batch while the previous
-- one is still being woken and written, instead of waiting for that commit to take the woken runs
-- out of the index. The id in the index makes that "after" one range of it, also among the many
-- runs due at the same millisecond; on wake_at alone each batch sorted every run due at once.
DROP INDEX runs_wake_idx;
CREATE INDEX runs_wake_idx ON runs (wake_at, id) WHERE wake_at IS NOT NULL;
