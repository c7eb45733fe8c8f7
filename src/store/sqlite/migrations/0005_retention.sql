-- Braid schema, version 5: retention (pruning finished runs).
--
-- Pruning deletes cache entries that have expired, a batch at a time: this index finds them without
-- reading the whole cache. Partial: entries that never expire are not in it, and writing one costs
-- nothing more.
-- Finished roots are found through runs_status_created_idx (status, created_at): a run finishes
-- after it is created, so `finished_at < t` implies `created_at < t` and the scan stops there. A
-- (finished_at) index was the alternative; it would cost every finishing run one more index write.
CREATE INDEX cache_expires_idx ON cache (expires_at) WHERE expires_at IS NOT NULL;
