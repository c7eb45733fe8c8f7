-- Braid schema, version 10: concurrency limits changed at run time.

-- One row per limit changed at run time (`executor.setMaxRuns`, `executor.setPoolSize`): it
-- overrides the value in code until reset. kind: 'max_runs' (name: a workflow; the limit per
-- concurrency key) or 'pool' (name: a resource pool; its size). Stored rather than kept per
-- process, so every process sharing the store applies the same value.
CREATE TABLE limit_settings (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
