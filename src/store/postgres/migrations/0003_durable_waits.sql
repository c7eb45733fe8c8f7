-- Braid schema for PostgreSQL, version 3: durable waits (sleep, events, a person's input) and the
-- event inbox. See the SQLite migration of the same number for what each column means.

-- One row per wait of a step: a waiting step holds no timer, no promise and no memory beyond this
-- row, on whichever worker. A wait is settled once: its status leaves 'pending' with a compare-and-
-- set, whatever settles it (its time, an event sent through any process, an input, a cancel).
CREATE TABLE braid.waits (
  run_id text COLLATE "C" NOT NULL,
  step text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  grp text NOT NULL,
  kind text NOT NULL,
  status text NOT NULL,
  due_at bigint,
  name text,
  event_key text,
  match text,
  since bigint,
  after_seq bigint,
  request text,
  value text,
  created_at bigint NOT NULL,
  resolved_at bigint,
  PRIMARY KEY (run_id, step, key)
);

-- An arriving event finds the pending waits for its name here (partial: settled waits leave it),
-- those waiting for its key and those waiting for any key as two short ranges: an event for one
-- order among 100,000 runs waiting on `order.paid`, each for its own order, reads one row.
CREATE INDEX waits_pending_event_idx ON braid.waits (name, event_key) WHERE status = 'pending' AND kind = 'event';

-- provideInput finds the pending input of a run by name here.
CREATE INDEX waits_pending_input_idx ON braid.waits (run_id, name) WHERE status = 'pending' AND kind = 'input';

-- The inbox: every event sent, so that one arriving before its waiter registers is not lost.
CREATE TABLE braid.inbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  key text,
  payload text NOT NULL,
  idempotency_key text,
  created_at bigint NOT NULL
);

-- One event per idempotency key, however often it is sent.
CREATE UNIQUE INDEX inbox_idempotency_key_idx ON braid.inbox (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- A registering waiter's look back: events of its name since a time, and, for a waiter that wants
-- one key, events of its name and key (so a busy event name is not read in full for each waiter).
CREATE INDEX inbox_name_created_idx ON braid.inbox (name, created_at);
CREATE INDEX inbox_name_key_created_idx ON braid.inbox (name, key, created_at);

-- The claim queue, again: unowned runs a worker may take NOW. A run asleep out of memory (wake_at
-- set: it waits for a time, an event or an input) is left out, so 100,000 sleeping runs cost a
-- claim nothing; claims find the due ones through runs_wake_idx (wake_at <= the database's now),
-- and a run whose wait an event settles gets wake_at = now in that commit. A control request (a
-- cancel of a sleeping run, say) makes a run claimable at once, asleep or not.
DROP INDEX braid.runs_claimable_idx;
CREATE INDEX runs_claimable_idx ON braid.runs (id)
  WHERE owner_id IS NULL
    AND ((wake_at IS NULL AND status IN ('queued', 'running', 'waiting')) OR requested_action IS NOT NULL);
