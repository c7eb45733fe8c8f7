-- Braid schema, version 4: durable step output streams (ctx.emit).

-- One row per chunk a step emitted. seq orders every chunk (AUTOINCREMENT keeps it increasing
-- even after a run's chunks are pruned), so a reader resumes after the last seq it saw (SSE
-- Last-Event-ID). attempt keeps a retried step's chunks apart from its earlier attempts'. Retention
-- deletes a pruned run's rows here with the rest of the run.
CREATE TABLE stream_chunks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step TEXT NOT NULL,
  stream TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  data TEXT NOT NULL,
  at INTEGER NOT NULL
);

-- A reader reads one stream of one step after a seq: one range. Reading every stream of a step
-- (the dashboard) is a range of its (run_id, step) prefix; pruning a run, a range of run_id.
CREATE INDEX stream_chunks_stream_seq_idx ON stream_chunks (run_id, step, stream, seq);
