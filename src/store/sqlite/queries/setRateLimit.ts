import type Database from 'better-sqlite3';
import type { RateLimitSetting } from '../../types.js';

/** Stores (or replaces) a limit's run-time setting, and drops one. Index: the primary key. */
export function prepareSetRateLimit(db: Database.Database): {
  set(setting: RateLimitSetting): void;
  reset(name: string): void;
} {
  const upsert = db.prepare<[string, number, number, number]>(
    `INSERT INTO rate_limit_settings (name, rate_limit, period_ms, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET rate_limit = excluded.rate_limit, period_ms = excluded.period_ms,
                                        updated_at = excluded.updated_at`,
  );
  const remove = db.prepare<[string]>('DELETE FROM rate_limit_settings WHERE name = ?');
  return {
    set: (s) => upsert.run(s.name, s.limit, s.periodMs, s.updatedAt),
    reset: (name) => remove.run(name),
  };
}
