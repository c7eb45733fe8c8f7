-- Braid schema for PostgreSQL, version 2: runs that wait hold nothing but their row.
--
-- wake_at: set while a run is asleep out of memory (every unfinished step of it waits for a time):
-- when it must be looked at again (its earliest wake-up, or its deadline). Null for runs held by a
-- worker and finished runs, so the partial index below holds only the sleeping ones.
ALTER TABLE braid.runs ADD COLUMN wake_at bigint;

-- paused_at: when the run was paused. Time spent paused does not count against the run's
-- deadline: resume, on whichever worker, moves deadline_at on by (now - paused_at).
ALTER TABLE braid.runs ADD COLUMN paused_at bigint;

-- The wake-up scan: sleeping runs in wake-up order (listRunsToWake, nextWakeAt).
CREATE INDEX runs_wake_idx ON braid.runs (wake_at) WHERE wake_at IS NOT NULL;
