import type Database from 'better-sqlite3';
import { takeGcra } from '../../rateLimits.js';
import type { RateLimitGrant, RateLimitRequest } from '../../types.js';

/**
 * Takes one start of a rate limit for a key per request, in order (GCRA, see
 * src/store/rateLimits.ts): reads the stored setting and the key's TAT, computes, writes the new
 * TAT; all of them in one IMMEDIATE transaction, so no read and write can interleave with another
 * connection's, and a batch costs one commit. Index: both primary keys.
 */
export function prepareTakeRateLimits(
  db: Database.Database,
): (requests: readonly RateLimitRequest[]) => RateLimitGrant[] {
  const setting = db.prepare<[string], { limit: number; periodMs: number }>(
    'SELECT rate_limit AS "limit", period_ms AS periodMs FROM rate_limit_settings WHERE name = ?',
  );
  const state = db.prepare<[string, string], { tat: number; intervalMs: number }>(
    'SELECT tat, interval_ms AS intervalMs FROM rate_limits WHERE name = ? AND key = ?',
  );
  const upsert = db.prepare<[string, string, number, number]>(
    `INSERT INTO rate_limits (name, key, tat, interval_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (name, key) DO UPDATE SET tat = excluded.tat, interval_ms = excluded.interval_ms`,
  );
  const take = (request: RateLimitRequest): RateLimitGrant => {
    const stored = setting.get(request.name);
    const { grant, tat, intervalMs } = takeGcra(
      state.get(request.name, request.key),
      request,
      stored?.limit ?? request.limit,
      stored?.periodMs ?? request.periodMs,
    );
    if (grant.granted && tat !== undefined) upsert.run(request.name, request.key, tat, intervalMs);
    return grant;
  };
  const takeAll = db.transaction((requests: readonly RateLimitRequest[]) => requests.map(take));
  return (requests) => (requests.length === 0 ? [] : takeAll.immediate(requests));
}
