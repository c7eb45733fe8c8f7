import type pg from 'pg';
import type { RateLimitGrant, RateLimitRequest } from '../../types.js';

interface Row {
  ord: number;
  granted: boolean;
  start_at: number;
  rate_limit: number;
  period_ms: number;
}

/**
 * Takes one start of a rate limit for a key per request, the whole batch in one statement and one
 * commit: `braid.take_rate_limits` (migration 0012) runs the GCRA of src/store/rateLimits.ts
 * request by request, one key's requests in the order given. It locks the keys' rows in (name, key)
 * order, so workers taking the same keys queue on their rows (each computes from the TAT the
 * previous one committed: the limit is exact however many workers ask) and cannot deadlock.
 * Index: both primary keys.
 */
export async function takeRateLimits(db: pg.Pool, requests: readonly RateLimitRequest[]): Promise<RateLimitGrant[]> {
  if (requests.length === 0) return [];
  const { rows } = await db.query<Row>({
    name: 'braid_take_rate_limits',
    text: 'SELECT ord, granted, start_at, rate_limit, period_ms FROM braid.take_rate_limits($1, $2, $3, $4, $5, $6, $7)',
    values: [
      requests.map((r) => r.name),
      requests.map((r) => r.key),
      requests.map((r) => r.limit),
      requests.map((r) => r.periodMs),
      requests.map((r) => r.burst),
      requests.map((r) => r.now),
      requests.map((r) => r.onLimit === 'drop'),
    ],
  });
  const grants = new Array<RateLimitGrant>(requests.length);
  for (const row of rows) {
    grants[row.ord - 1] = {
      granted: row.granted,
      startAt: row.start_at,
      limit: row.rate_limit,
      periodMs: row.period_ms,
    };
  }
  return grants;
}
