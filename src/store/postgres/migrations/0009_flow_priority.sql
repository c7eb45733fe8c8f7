-- Braid schema for PostgreSQL, version 9: priority. See the SQLite migration of the same number.
-- A constant default: adding the column rewrites no rows (PostgreSQL >= 11 keeps it in the catalog).
ALTER TABLE braid.runs ADD COLUMN priority integer NOT NULL DEFAULT 0;

-- The claim by priority (claimRuns): unowned runs a worker may take now, highest priority first,
-- then oldest (ids sort by creation). Same predicate as runs_claimable_idx, which still serves the
-- anti-starvation turn (the oldest waiter, whatever its priority).
CREATE INDEX runs_claimable_priority_idx ON braid.runs (priority DESC, id)
  WHERE owner_id IS NULL
    AND ((wake_at IS NULL AND status IN ('queued', 'running', 'waiting')) OR requested_action IS NOT NULL);

-- Runs waiting for a `maxRuns` slot of their concurrency key are admitted by priority, then arrival.
CREATE INDEX runs_keyed_queue_priority_idx ON braid.runs (priority DESC, id)
  WHERE owner_id IS NULL AND status = 'queued' AND concurrency_key IS NOT NULL AND requested_action IS NULL;

-- Debounce: one row per (workflow, key) naming the key's latest run. See the SQLite migration of
-- the same number. Times are epoch ms by the database's clock, as wake_at is compared with it.
CREATE TABLE braid.debounces (
  workflow text NOT NULL,
  key text NOT NULL,
  run_id text COLLATE "C" NOT NULL,
  first_at bigint NOT NULL,
  last_at bigint NOT NULL,
  due_at bigint NOT NULL,
  triggers integer NOT NULL,
  PRIMARY KEY (workflow, key)
);

-- listDebounces: soonest due first.
CREATE INDEX debounces_due_idx ON braid.debounces (due_at);
