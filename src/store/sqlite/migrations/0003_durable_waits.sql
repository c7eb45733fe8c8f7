-- Braid schema, version 3: durable waits (sleep, events, a person's input) and the event inbox.

-- One row per wait of a step: a waiting step holds no timer, no promise and no memory beyond
-- this row. (run_id, step, key) is the wait's identity: a step that runs again (after a crash, or
-- because the wait let it leave memory) finds its finished waits here and does not wait again.
-- A wait is settled once: its status leaves 'pending' with a compare-and-set (see upsertWaits).
CREATE TABLE waits (
  run_id TEXT NOT NULL,
  step TEXT NOT NULL,
  key TEXT NOT NULL,
  grp TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  due_at INTEGER,
  name TEXT,
  event_key TEXT,
  match TEXT,
  since INTEGER,
  after_seq INTEGER,
  request TEXT,
  value TEXT,
  created_at INTEGER NOT NULL,
  resolved_at INTEGER,
  PRIMARY KEY (run_id, step, key)
) WITHOUT ROWID;

-- An arriving event finds the pending waits for its name and key here (those with its key, and
-- those that take any key: event_key IS NULL), so that a name with many waiters routed by key
-- costs one lookup per event. Partial: settled waits leave it.
CREATE INDEX waits_pending_event_idx ON waits (name, event_key) WHERE status = 'pending' AND kind = 'event';

-- provideInput finds the pending input of a run by name here.
CREATE INDEX waits_pending_input_idx ON waits (run_id, name) WHERE status = 'pending' AND kind = 'input';

-- The inbox: every event sent, so that one arriving before its waiter registers is not lost (a
-- waiter looks back here when it registers, in the same transaction). AUTOINCREMENT keeps seqs
-- increasing even after old events are pruned.
CREATE TABLE inbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  key TEXT,
  payload TEXT NOT NULL,
  idempotency_key TEXT,
  created_at INTEGER NOT NULL
);

-- One event per idempotency key, however often it is sent.
CREATE UNIQUE INDEX inbox_idempotency_key_idx ON inbox (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- A registering waiter's look back: events of its name (and key, for a waiter that wants one)
-- since a time.
CREATE INDEX inbox_name_created_idx ON inbox (name, created_at);
CREATE INDEX inbox_name_key_created_idx ON inbox (name, key, created_at);
