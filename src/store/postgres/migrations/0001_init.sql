-- Braid schema for PostgreSQL, version 1. Everything lives in the `braid` schema, so Braid can
-- share a database with the application without its table names colliding.
-- Record times are epoch milliseconds (bigint), as the engine writes them; coordination times
-- (leases, heartbeats) are timestamptz taken from the database clock, so hosts whose clocks
-- disagree still agree on whose lease has expired.
-- Released migrations are never edited: change the schema in a new numbered file.

-- Ids and step names sort in the "C" collation (by code point), as the other stores sort them:
-- a database created with a linguistic locale (en_US.UTF-8) would otherwise order runs and
-- steps differently from SQLite, and the listRuns cursor compares ids in this order.
CREATE TABLE braid.runs (
  id text COLLATE "C" PRIMARY KEY,
  workflow text NOT NULL,
  version text NOT NULL,
  status text NOT NULL,
  input text NOT NULL,
  output text,
  error text,
  globals text NOT NULL,
  idempotency_key text,
  parent_run_id text,
  parent_step text,
  spawn_key text,
  root_run_id text NOT NULL,
  concurrency_key text,
  replay_of text,
  created_at bigint NOT NULL,
  started_at bigint,
  finished_at bigint,
  deadline_at bigint,
  checkpoint_seq integer NOT NULL,
  -- The worker that runs this run's steps now; NULL = waiting for a worker to claim it.
  owner_id text,
  -- A cancel / pause / resume asked for by a process that does not own the run; the owner (or
  -- the next worker to claim it) carries it out and clears it.
  requested_action text,
  requested_reason text
);

-- "First one wins" for idempotency keys: a duplicate insert conflicts here and is skipped.
CREATE UNIQUE INDEX runs_idempotency_key_idx ON braid.runs (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- One child per (parent run, parent step, spawn key): a step re-spawning on retry, on recovery or
-- on another worker gets its existing children back. Also serves getChildLinks.
CREATE UNIQUE INDEX runs_spawn_key_idx ON braid.runs (parent_run_id, parent_step, spawn_key)
  WHERE parent_run_id IS NOT NULL;

-- The claim queue: unfinished runs no worker holds, oldest first. Partial, so it holds only the
-- runs waiting for a worker, however many finished runs the table keeps.
CREATE INDEX runs_claimable_idx ON braid.runs (id)
  WHERE owner_id IS NULL AND (status IN ('queued', 'running') OR requested_action IS NOT NULL);

-- The runs a worker holds: released on graceful shutdown, handed back when its lease expires.
CREATE INDEX runs_owner_idx ON braid.runs (owner_id) WHERE owner_id IS NOT NULL;

-- Partial: a run that succeeds leaves this index, so finishing a run (the commonest update)
-- writes one index entry fewer, and the index holds only the runs worth filtering by status
-- (unfinished ones for recovery, failures for the dashboard). A `succeeded` filter walks
-- runs_created_idx instead, where succeeded runs are most of the rows.
CREATE INDEX runs_status_created_idx ON braid.runs (status, created_at) WHERE status <> 'succeeded';
CREATE INDEX runs_workflow_created_idx ON braid.runs (workflow, created_at);
CREATE INDEX runs_root_created_idx ON braid.runs (root_run_id, created_at);
CREATE INDEX runs_parent_created_idx ON braid.runs (parent_run_id, created_at);
CREATE INDEX runs_created_idx ON braid.runs (created_at);

-- A step row is written when its step starts and again when it ends, and no index covers the
-- columns that change: with room left in the page the second write is a HOT update (no new
-- primary-key entry). Measured on a 50-step finishing batch: 197 WAL records at the default
-- fillfactor 100, 101 at 60.
CREATE TABLE braid.steps (
  run_id text NOT NULL,
  name text COLLATE "C" NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  output text,
  error text,
  started_at bigint,
  finished_at bigint,
  next_attempt_at bigint,
  route text,
  cache_hit boolean NOT NULL,
  fallback_used boolean NOT NULL,
  PRIMARY KEY (run_id, name)
) WITH (fillfactor = 60);

CREATE TABLE braid.events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  step text,
  type text NOT NULL,
  at bigint NOT NULL,
  attempt integer,
  data text
);

CREATE INDEX events_run_seq_idx ON braid.events (run_id, seq);

CREATE TABLE braid.cache (
  key text PRIMARY KEY,
  output text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint
);

-- Live worker processes. A worker's lease covers every run it owns: one heartbeat renews them all.
CREATE TABLE braid.workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  -- [{"name": ..., "version": ...}] of the workflows it can run.
  workflows jsonb NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz NOT NULL
);

-- Counting semaphores held in the database, so limits hold across workers: resource pools and a
-- workflow's maxRuns per concurrency key.
CREATE TABLE braid.semaphores (
  name text PRIMARY KEY,
  capacity integer NOT NULL
);

-- Who holds a semaphore. worker_id is set for holds that die with their worker (a step's pool
-- slot); NULL for holds that belong to a run and end with it (a concurrency slot).
CREATE TABLE braid.semaphore_holders (
  name text NOT NULL,
  holder text NOT NULL,
  worker_id text,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, holder)
);

CREATE INDEX semaphore_holders_worker_idx ON braid.semaphore_holders (worker_id) WHERE worker_id IS NOT NULL;
CREATE INDEX semaphore_holders_holder_idx ON braid.semaphore_holders (holder);
