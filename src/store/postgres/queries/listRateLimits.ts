import type pg from 'pg';
import type { RateLimitSetting, RateLimitState } from '../../types.js';

/** Every run-time rate limit setting, by name. */
export async function listRateLimitSettings(db: pg.Pool): Promise<RateLimitSetting[]> {
  const { rows } = await db.query<RateLimitSetting>({
    name: 'braid_list_rate_limit_settings',
    text: `SELECT name, rate_limit AS "limit", period_ms AS "periodMs", updated_at::float8 AS "updatedAt"
             FROM braid.rate_limit_settings ORDER BY name`,
  });
  return rows;
}

/**
 * The (limit, key) states busy at `now` (TAT later), by name and key. Scans rate_limits (one row
 * per key); only the API and /metrics read it.
 */
export async function listBusyRateLimits(db: pg.Pool, now: number, limit: number): Promise<RateLimitState[]> {
  const { rows } = await db.query<RateLimitState>({
    name: 'braid_list_busy_rate_limits',
    text: 'SELECT name, key, tat FROM braid.rate_limits WHERE tat > $1 ORDER BY name, key LIMIT $2',
    values: [now, limit],
  });
  return rows;
}
