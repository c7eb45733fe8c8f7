-- Braid schema, version 2: runs that wait hold nothing but their row.
--
-- wake_at: set while a run is asleep out of memory (every unfinished step of it waits for a time,
-- such as a retry after its backoff): when the engine must load it again (its earliest wake-up, or
-- its deadline). Null for runs in memory and finished runs, so the index below holds only the
-- sleeping ones and costs nothing on the hot path.
ALTER TABLE runs ADD COLUMN wake_at INTEGER;

-- paused_at: when the run was paused. Time spent paused does not count against the run's
-- deadline: resume moves deadline_at on by (now - paused_at), in this process or after a restart.
ALTER TABLE runs ADD COLUMN paused_at INTEGER;

-- The wake-up scan: sleeping runs in wake-up order (listRunsToWake, nextWakeAt).
CREATE INDEX runs_wake_idx ON runs (wake_at) WHERE wake_at IS NOT NULL;
