-- Braid schema for PostgreSQL, version 4: durable step output streams (ctx.emit). See the SQLite
-- migration of the same number for what each column means.

-- seq is assigned when the commit's statement runs. Commits of one stream never race: only the
-- run's owner writes it, its commits are sequential, and a worker that lost the run is fenced, so
-- a stream's chunks become visible in seq order and a reader can resume after the last seq it saw.
CREATE TABLE braid.stream_chunks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text COLLATE "C" NOT NULL,
  step text COLLATE "C" NOT NULL,
  stream text COLLATE "C" NOT NULL,
  attempt integer NOT NULL,
  data text NOT NULL,
  at bigint NOT NULL
);

-- One stream of one step after a seq; every stream of a step; a run's chunks (pruning).
CREATE INDEX stream_chunks_stream_seq_idx ON braid.stream_chunks (run_id, step, stream, seq);
