-- Braid schema, version 9: priority. A run's priority (higher first; 0 by default) orders who gets
-- a slot: steps waiting for an execution slot, runs waiting for a `maxRuns` slot, and the claim on
-- PostgreSQL. Stored so it survives a restart: a recovered run is put back in line with it.
-- No index here: one process runs everything on SQLite and orders its waiters in memory.
ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;

-- Debounce (`debounce` on a workflow): one row per (workflow, key), naming the key's latest run and
-- its trigger history. The run itself is a `runs` row in `queued` whose wake_at is its due time:
-- the wake-up scan starts it when that comes, so no timer per key. While it is pending (queued,
-- not started, wake_at still ahead), a trigger of the key replaces its input and moves wake_at;
-- after that, a trigger inserts a new run and this row names it.
CREATE TABLE debounces (
  workflow TEXT NOT NULL,
  key TEXT NOT NULL,
  run_id TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  triggers INTEGER NOT NULL,
  PRIMARY KEY (workflow, key)
);

-- listDebounces: soonest due first.
CREATE INDEX debounces_due_idx ON debounces (due_at);
