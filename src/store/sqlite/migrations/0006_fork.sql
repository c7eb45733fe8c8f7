-- Braid schema, version 6: forks (`executor.fork`): runs started from a step of another run.

-- One row per forked run, written in the commit that creates the run and its reused steps, so a
-- fork is there whole or not at all. A table of its own rather than columns on runs: the run
-- insert and read are the hot path, and only forked runs (few) carry this. The link both ways:
-- run_id -> forked_from here, forked_from -> its forks through forks_forked_from_idx.
-- reused_steps / overridden_steps: JSON arrays of step names (the steps whose outcome was copied
-- from the original, not executed; those of them given a new output by the caller).
CREATE TABLE forks (
  run_id TEXT PRIMARY KEY NOT NULL,
  forked_from TEXT NOT NULL,
  from_step TEXT NOT NULL,
  reused_steps TEXT NOT NULL,
  overridden_steps TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- listForks: a run's forks, oldest first.
CREATE INDEX forks_forked_from_idx ON forks (forked_from, created_at);
