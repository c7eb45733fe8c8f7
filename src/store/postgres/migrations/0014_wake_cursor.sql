-- Braid schema for PostgreSQL, version 14: sleeping runs in (wake_at, id) order.
--
-- listRunsToWake reads due runs in batches after a keyset cursor (wake_at, id), and the claim of
-- due runs orders them by (wake_at, id) too: with the id in the index both are one range of it in
-- its order, also among the many runs due at the same millisecond, which on wake_at alone were
-- sorted on every batch.
DROP INDEX braid.runs_wake_idx;
CREATE INDEX runs_wake_idx ON braid.runs (wake_at, id) WHERE wake_at IS NOT NULL;
