import type Database from 'better-sqlite3';
import type { RateLimitSetting, RateLimitState } from '../../types.js';

/**
 * What the API shows of rate limits: every run-time setting, and the keys busy now (TAT later than
 * `now`). Scans rate_limits: one row per key, and only the API and /metrics read it.
 */
export function prepareListRateLimits(db: Database.Database): {
  settings(): RateLimitSetting[];
  busy(now: number, limit: number): RateLimitState[];
} {
  const settings = db.prepare<[], RateLimitSetting>(
    `SELECT name, rate_limit AS "limit", period_ms AS periodMs, updated_at AS updatedAt
       FROM rate_limit_settings ORDER BY name`,
  );
  const busy = db.prepare<[number, number], RateLimitState>(
    'SELECT name, key, tat FROM rate_limits WHERE tat > ? ORDER BY name, key LIMIT ?',
  );
  return { settings: () => settings.all(), busy: (now, limit) => busy.all(now, limit) };
}
