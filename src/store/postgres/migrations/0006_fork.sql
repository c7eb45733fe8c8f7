-- Braid schema for PostgreSQL, version 6: forks (`executor.fork`). See the SQLite migration of the
-- same number for what each column means.

-- One row per forked run, inserted in the transaction that inserts the run and its reused steps.
-- Its own table: the runs insert is the hot path and only forked runs carry a link.
CREATE TABLE braid.forks (
  run_id text COLLATE "C" PRIMARY KEY,
  forked_from text COLLATE "C" NOT NULL,
  from_step text NOT NULL,
  reused_steps text[] NOT NULL,
  overridden_steps text[] NOT NULL,
  created_at bigint NOT NULL
);

-- listForks: a run's forks, oldest first.
CREATE INDEX forks_forked_from_idx ON braid.forks (forked_from, created_at);
