-- Braid schema for PostgreSQL, version 13: the steps and waits of runs, read with a snapshot of
-- their own, so that a claim can lock its runs and read their state in one statement
-- (queries/claimRuns.ts) instead of a transaction of four round trips (BEGIN, claim, read, COMMIT).
--
-- Why functions, and VOLATILE: a statement reads everything with the snapshot it took when it
-- began, but a claim locks its runs later in that statement (FOR UPDATE SKIP LOCKED). An event
-- whose commit settled a run's wait in between (after the snapshot, before the lock: its
-- lockRunsOfWaits found the run not yet locked) would be read as still pending by a subquery of
-- the claim, and its notice went to braid_ready, not to the claiming worker (the run had no owner
-- when it settled), so the run would wait until the safety poll. A VOLATILE function takes a new
-- snapshot for each query it runs (READ COMMITTED), and the claim calls these only once every
-- claimed run is locked: they see every commit that settled a wait of those runs before the lock,
-- and a commit after it waits for the claim to commit (lockRunsOfWaits), then tells the new owner.
-- PL/pgSQL, never inlined into the calling query (an inlined SQL function would read with the
-- caller's snapshot).
--
-- Whole rows (SETOF the table): the caller picks and names the columns (recordColumns.ts), so a
-- column added to steps or waits later needs no new version of these.
-- Indexes: the steps and waits primary keys (run_id first), one range per run.

CREATE FUNCTION braid.steps_of_runs_now(run_ids text[]) RETURNS SETOF braid.steps
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN QUERY SELECT s.* FROM braid.steps s WHERE s.run_id = ANY (run_ids);
END
$$;

CREATE FUNCTION braid.waits_of_runs_now(run_ids text[]) RETURNS SETOF braid.waits
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN QUERY SELECT w.* FROM braid.waits w WHERE w.run_id = ANY (run_ids);
END
$$;
