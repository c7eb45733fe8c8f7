-- Braid schema for PostgreSQL, version 5: retention (pruning finished runs). See the SQLite
-- migration of the same number. Space freed by pruning is reused after autovacuum has processed the
-- tables; Braid runs no VACUUM itself.
CREATE INDEX cache_expires_idx ON braid.cache (expires_at) WHERE expires_at IS NOT NULL;
