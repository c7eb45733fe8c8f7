-- Braid schema for PostgreSQL, version 12: a batch of rate-limit starts taken in one statement
-- (queries/takeRateLimits.ts). Until now each start was its own autocommitted statement, one after
-- another, so a worker asked at most one start per commit (~1 ms with fsync) whatever number of
-- keys it used.
--
-- The function is the GCRA of src/store/rateLimits.ts (takeGcra, owedAt), request by request.
-- It visits the requests in (name, key) order, and one key's requests in the order they were
-- asked (their waiters' priority order). Each key's row is locked on its first request and held
-- to the end of the statement's transaction: every worker locks keys in the same order, so two
-- batches sharing keys queue on the first key they share and can never deadlock. A key's row is
-- read once, its new TAT computed for each of its requests in turn, and written once, before the
-- next key is locked.
--
-- A key with no row yet gets one at once, with the TAT -Infinity (which takeGcra reads as no
-- state: the start is now), so that it too is locked when visited. Two workers inserting the same
-- new key: the second waits for the first's transaction, inserts nothing, and locks the row the
-- first committed.
-- A setting changed at run time (rate_limit_settings) replaces the requests' limit and period.
-- Returns one row per request: its position in the arrays (1-based) and its answer.

CREATE FUNCTION braid.take_rate_limits(
  names text[],
  keys text[],
  limits integer[],
  periods double precision[],
  bursts integer[],
  nows double precision[],
  drops boolean[]
) RETURNS TABLE (ord integer, granted boolean, start_at double precision, rate_limit integer, period_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  cur_name text;
  cur_key text;
  set_limit integer;
  set_period double precision;
  -- The key's state as the requests so far left it.
  key_tat double precision;
  key_interval double precision;
  dirty boolean := false;
  lim integer;
  per double precision;
  t double precision;
  tau double precision;
  owed double precision;
  start double precision;
BEGIN
  FOR r IN
    SELECT i, names[i] AS name, keys[i] AS key, limits[i] AS lim, periods[i] AS per, bursts[i] AS burst,
           nows[i] AS now, drops[i] AS refuse
      FROM generate_subscripts(names, 1) AS i
     ORDER BY names[i] COLLATE "C", keys[i] COLLATE "C", i
  LOOP
    IF cur_key IS NULL OR r.name <> cur_name OR r.key <> cur_key THEN
      IF dirty THEN
        UPDATE braid.rate_limits x SET tat = key_tat, interval_ms = key_interval
         WHERE x.name = cur_name AND x.key = cur_key;
      END IF;
      IF cur_name IS NULL OR r.name <> cur_name THEN
        SELECT s.rate_limit, s.period_ms INTO set_limit, set_period
          FROM braid.rate_limit_settings s WHERE s.name = r.name;
        IF NOT FOUND THEN set_limit := NULL; set_period := NULL; END IF;
      END IF;
      cur_name := r.name;
      cur_key := r.key;
      dirty := false;
      LOOP
        SELECT x.tat, x.interval_ms INTO key_tat, key_interval
          FROM braid.rate_limits x WHERE x.name = r.name AND x.key = r.key FOR UPDATE;
        EXIT WHEN FOUND;
        INSERT INTO braid.rate_limits AS x (name, key, tat, interval_ms)
        VALUES (r.name, r.key, '-Infinity', 1) ON CONFLICT (name, key) DO NOTHING;
        IF FOUND THEN
          key_tat := '-Infinity';
          key_interval := 1;
          EXIT;
        END IF;
      END LOOP;
    END IF;

    lim := coalesce(set_limit, r.lim);
    per := coalesce(set_period, r.per);
    t := per / lim;
    tau := (r.burst - 1) * t;
    -- owedAt: the time still owed, rescaled when the interval changed since it was computed.
    IF key_interval = t OR key_tat <= r.now THEN
      owed := key_tat;
    ELSE
      owed := r.now + (key_tat - r.now) * t / key_interval;
    END IF;
    start := greatest(r.now, owed - tau);

    ord := r.i;
    rate_limit := lim;
    period_ms := per;
    start_at := start;
    IF start > r.now AND r.refuse THEN
      granted := false;
    ELSE
      granted := true;
      key_tat := greatest(owed, start) + t;
      key_interval := t;
      dirty := true;
    END IF;
    RETURN NEXT;
  END LOOP;
  IF dirty THEN
    UPDATE braid.rate_limits x SET tat = key_tat, interval_ms = key_interval
     WHERE x.name = cur_name AND x.key = cur_key;
  END IF;
END
$$;
