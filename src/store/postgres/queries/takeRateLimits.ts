import type pg from 'pg';
import { owedAt } from '../../rateLimits.js';
import type { RateLimitGrant, RateLimitRequest } from '../../types.js';

interface Row {
  tat: number | null;
  limit: number;
  periodMs: number;
  t: number;
  tau: number;
  previous: number | null;
  previousInterval: number | null;
}

/** The row's TAT under the interval in force (see owedAt in src/store/rateLimits.ts), in SQL. */
const OWED = `(CASE WHEN r.interval_ms <> (SELECT t FROM p) AND r.tat > $6::float8
                    THEN $6::float8 + (r.tat - $6::float8) * (SELECT t FROM p) / r.interval_ms
                    ELSE r.tat END)`;

/**
 * Takes one start of a rate limit for a key per request, in order: one statement each, one after
 * the other, taking one pool connection at a time (each commits on its own and holds its row's lock only for itself;
 * a batch in one transaction would hold every key's row until the last, and two workers locking
 * keys in different orders could deadlock). Each is the GCRA (see src/store/rateLimits.ts) in one
 * statement.
 * The run-time setting, if any, replaces the request's limit and period. INSERT ... ON CONFLICT DO
 * UPDATE locks the key's row, so workers taking the same key queue on it and each computes from
 * the TAT the previous one committed: the limit is exact however many workers ask. Under 'drop',
 * the update's WHERE refuses a start that does not conform (no row comes back, nothing changes).
 * `previous` (the TAT before this statement) only tells a refused caller when a start frees up.
 * Index: both primary keys.
 */
export async function takeRateLimits(db: pg.Pool, requests: readonly RateLimitRequest[]): Promise<RateLimitGrant[]> {
  const grants: RateLimitGrant[] = [];
  for (const request of requests) grants.push(await takeOne(db, request));
  return grants;
}

async function takeOne(db: pg.Pool, r: RateLimitRequest): Promise<RateLimitGrant> {
  const { rows } = await db.query<Row>({
    name: 'braid_take_rate_limit',
    text: `WITH cfg AS (
             SELECT coalesce(max(rate_limit), $3::int) AS lim, coalesce(max(period_ms), $4::float8) AS per
               FROM braid.rate_limit_settings WHERE name = $1
           ), p AS (
             SELECT lim, per, per / lim AS t, ($5::int - 1) * per / lim AS tau FROM cfg
           ), taken AS (
             INSERT INTO braid.rate_limits AS r (name, key, tat, interval_ms)
             SELECT $1, $2, $6::float8 + p.t, p.t FROM p
             ON CONFLICT (name, key) DO UPDATE
                SET tat = greatest(${OWED}, $6::float8, ${OWED} - (SELECT tau FROM p)) + (SELECT t FROM p),
                    interval_ms = (SELECT t FROM p)
              WHERE NOT $7::boolean OR $6::float8 >= ${OWED} - (SELECT tau FROM p)
             RETURNING r.tat
           )
           SELECT (SELECT tat FROM taken) AS tat, p.lim AS "limit", p.per AS "periodMs", p.t, p.tau,
                  o.tat AS previous, o.interval_ms AS "previousInterval"
             FROM p LEFT JOIN braid.rate_limits o ON o.name = $1 AND o.key = $2`,
    values: [r.name, r.key, r.limit, r.periodMs, r.burst, r.now, r.onLimit === 'drop'],
  });
  const row = rows[0] as Row;
  if (row.tat === null) {
    const owed =
      row.previous === null
        ? r.now
        : owedAt({ tat: row.previous, intervalMs: row.previousInterval ?? row.t }, row.t, r.now);
    const startAt = Math.max(r.now, owed - row.tau);
    return { granted: false, startAt, limit: row.limit, periodMs: row.periodMs };
  }
  // The start is the TAT it was granted against, less the burst allowance, and never before now.
  return {
    granted: true,
    startAt: Math.max(r.now, row.tat - row.t - row.tau),
    limit: row.limit,
    periodMs: row.periodMs,
  };
}
