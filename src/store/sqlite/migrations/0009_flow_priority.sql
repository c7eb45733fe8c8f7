-- Braid schema, version 9: priority. A run's priority (higher first; 0 by default) orders who gets
-- a slot: steps waiting for an execution slot, runs waiting for a `maxRuns` slot, and the claim on
-- PostgreSQL. Stored so it survives a restart: a recovered run is put back in line with it.
-- No index here: one process runs everything on SQLite and orders its waiters in memory.
ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
