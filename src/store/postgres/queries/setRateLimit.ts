import type pg from 'pg';
import type { RateLimitSetting } from '../../types.js';

/** Stores (or replaces) a limit's run-time setting. Index: the primary key. */
export async function setRateLimit(db: pg.Pool, s: RateLimitSetting): Promise<void> {
  await db.query({
    name: 'braid_set_rate_limit',
    text: `INSERT INTO braid.rate_limit_settings (name, rate_limit, period_ms, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET rate_limit = excluded.rate_limit, period_ms = excluded.period_ms,
                                              updated_at = excluded.updated_at`,
    values: [s.name, s.limit, s.periodMs, s.updatedAt],
  });
}

/** Drops a limit's run-time setting: its definition applies again. Index: the primary key. */
export async function resetRateLimit(db: pg.Pool, name: string): Promise<void> {
  await db.query({
    name: 'braid_reset_rate_limit',
    text: 'DELETE FROM braid.rate_limit_settings WHERE name = $1',
    values: [name],
  });
}
