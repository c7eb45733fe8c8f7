-- Braid schema for PostgreSQL, version 10: concurrency limits changed at run time, and pool gates
-- that admit by priority. See the SQLite migration of the same number for limit_settings.
CREATE TABLE braid.limit_settings (
  kind text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  value integer NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (kind, name)
);

-- Steps waiting for a unit of a gate (a pool, the cluster-wide step limit), so that a freed unit
-- goes to the waiter whose turn it is across every worker: by priority, then arrival, with every
-- OLDEST_EVERY-th grant of the gate to the oldest waiter (the rule of src/engine/priorityQueue.ts).
-- Without this table, whichever worker asked first after a release won. seq: arrival order.
-- worker_id: a waiter dies with its worker (reapExpiredWorkers, deregisterWorker).
CREATE TABLE braid.semaphore_waiters (
  name text NOT NULL,
  holder text NOT NULL,
  worker_id text NOT NULL,
  priority integer NOT NULL,
  seq bigserial NOT NULL,
  PRIMARY KEY (name, holder)
);
-- The turn by priority, and the turn of the oldest (acquire reads the first few of each).
CREATE INDEX semaphore_waiters_priority_idx ON braid.semaphore_waiters (name, priority DESC, seq);
CREATE INDEX semaphore_waiters_arrival_idx ON braid.semaphore_waiters (name, seq);

-- Units granted so far: which grant is the oldest waiter's turn.
ALTER TABLE braid.semaphores ADD COLUMN grants bigint NOT NULL DEFAULT 0;
