-- Braid schema for PostgreSQL, version 11: row types for the commit statement's inputs
-- (queries/commitBatch.ts). Each part of a batch (new runs, run updates, steps, events, cache,
-- controls, waits, inbox, stream chunks) arrives as ONE array parameter of its type instead of one
-- array per column: PostgreSQL materialises every `unnest` argument in a tuplestore of its own
-- (16 kB of tuple pointers each, however few rows), so a 24-column insert took 24 of them, and the
-- memory a commit allocated and freed grew until the backend's allocator handed pages back to the
-- kernel and faulted them in again on every commit. The attribute order is the order
-- commitBatch.ts writes each record's fields in.
-- Types are not altered once released: a new shape of input is a new type.

CREATE TYPE braid.commit_new_run AS (
  id text,
  workflow text,
  version text,
  status text,
  input text,
  output text,
  error text,
  globals text,
  idempotency_key text,
  parent_run_id text,
  parent_step text,
  spawn_key text,
  root_run_id text,
  concurrency_key text,
  replay_of text,
  created_at bigint,
  started_at bigint,
  finished_at bigint,
  deadline_at bigint,
  checkpoint_seq integer,
  owner_id text,
  wake_at bigint,
  paused_at bigint,
  priority integer
);

CREATE TYPE braid.commit_run_update AS (
  id text,
  status text,
  output text,
  error text,
  started_at bigint,
  finished_at bigint,
  deadline_at bigint,
  globals text,
  checkpoint_seq integer,
  wake_at bigint,
  paused_at bigint
);

CREATE TYPE braid.commit_step AS (
  run_id text,
  name text,
  status text,
  attempts integer,
  output text,
  error text,
  started_at bigint,
  finished_at bigint,
  next_attempt_at bigint,
  route text,
  cache_hit boolean,
  fallback_used boolean
);

CREATE TYPE braid.commit_event AS (
  run_id text,
  step text,
  type text,
  at bigint,
  attempt integer,
  data text
);

CREATE TYPE braid.commit_cache_entry AS (
  key text,
  output text,
  created_at bigint,
  expires_at bigint
);

CREATE TYPE braid.commit_control AS (
  id text,
  action text,
  reason text
);

CREATE TYPE braid.commit_wait AS (
  run_id text,
  step text,
  key text,
  grp text,
  kind text,
  status text,
  due_at bigint,
  name text,
  event_key text,
  match text,
  since bigint,
  after_seq bigint,
  request text,
  value text,
  created_at bigint,
  resolved_at bigint
);

CREATE TYPE braid.commit_inbox_event AS (
  name text,
  key text,
  payload text,
  idempotency_key text,
  created_at bigint
);

CREATE TYPE braid.commit_stream_chunk AS (
  run_id text,
  step text,
  stream text,
  attempt integer,
  data text,
  at bigint
);
