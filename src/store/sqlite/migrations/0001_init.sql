-- Braid schema, version 1: runs, steps, events and the step cache.
-- Times are epoch milliseconds (INTEGER). Payloads are JSON text written by the engine.
-- Released migrations are never edited: change the schema in a new numbered file.

-- A rowid table rather than WITHOUT ROWID on the text id: rows carry inputs and globals of any
-- size, and SQLite advises WITHOUT ROWID only for small rows. A first benchmark of 10k-run
-- commits with random ids was also slower clustered on the id.
CREATE TABLE runs (
  id TEXT PRIMARY KEY NOT NULL,
  workflow TEXT NOT NULL,
  version TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  globals TEXT NOT NULL,
  idempotency_key TEXT,
  parent_run_id TEXT,
  parent_step TEXT,
  spawn_key TEXT,
  root_run_id TEXT NOT NULL,
  concurrency_key TEXT,
  replay_of TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  deadline_at INTEGER,
  checkpoint_seq INTEGER NOT NULL
);

-- "First one wins" for idempotency keys: a duplicate insert conflicts here and is skipped.
CREATE UNIQUE INDEX runs_idempotency_key_idx ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- One child per (parent run, parent step, spawn key), so a step re-spawning on retry or recovery
-- gets its existing children back instead of new ones. Also serves getChildLinks.
CREATE UNIQUE INDEX runs_spawn_key_idx ON runs (parent_run_id, parent_step, spawn_key) WHERE parent_run_id IS NOT NULL;

-- listRuns / countRuns by status, and listUnfinishedRuns.
CREATE INDEX runs_status_created_idx ON runs (status, created_at);

-- listRuns by workflow.
CREATE INDEX runs_workflow_created_idx ON runs (workflow, created_at);

-- listRuns by root run (a whole tree of runs). created_at too, so a page of a 200k-run tree is
-- read in order (0.3 ms) instead of sorting the whole tree (65 ms).
CREATE INDEX runs_root_created_idx ON runs (root_run_id, created_at);

-- listRuns by parent run, in spawn order.
CREATE INDEX runs_parent_created_idx ON runs (parent_run_id, created_at);

-- Unfiltered listRuns (the dashboard's first page) walks this instead of sorting every run.
-- created_at only grows, so new entries append: no measurable cost on 10k-run commits.
CREATE INDEX runs_created_idx ON runs (created_at);

-- Clustered on (run_id, name): a run's steps are read together on recovery.
CREATE TABLE steps (
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  output TEXT,
  error TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  next_attempt_at INTEGER,
  route TEXT,
  cache_hit INTEGER NOT NULL,
  fallback_used INTEGER NOT NULL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;

-- AUTOINCREMENT so a seq is never reused, even after old events are deleted: readers resume
-- from the last seq they saw.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step TEXT,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  attempt INTEGER,
  data TEXT
);

-- listEvents for one run.
CREATE INDEX events_run_seq_idx ON events (run_id, seq);

CREATE TABLE cache (
  key TEXT PRIMARY KEY NOT NULL,
  output TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
