import type Database from 'better-sqlite3';
import type { KeyedRunCount, LimitKind, LimitSetting } from '../../types.js';

/** Stores, drops and lists run-time limit settings (maxRuns, pool sizes). Index: the primary key. */
export function prepareLimitSettings(db: Database.Database): {
  set(setting: LimitSetting): void;
  reset(kind: LimitKind, name: string): void;
  list(): LimitSetting[];
} {
  const upsert = db.prepare<[string, string, number, number]>(
    `INSERT INTO limit_settings (kind, name, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM limit_settings WHERE kind = ? AND name = ?');
  const list = db.prepare<[], LimitSetting>(
    'SELECT kind, name, value, updated_at AS updatedAt FROM limit_settings ORDER BY kind, name',
  );
  return {
    set: (s) => upsert.run(s.kind, s.name, s.value, s.updatedAt),
    reset: (kind, name) => remove.run(kind, name),
    list: () => list.all(),
  };
}

/**
 * Unfinished runs per (workflow, concurrency key): active (started) and queued (due by `now`).
 * Reads the unfinished runs of the workflows through runs_status_created_idx; only the API and
 * /metrics ask.
 */
export function prepareCountKeyedRuns(
  db: Database.Database,
): (workflows: readonly string[], now: number, limit: number) => KeyedRunCount[] {
  const count = db.prepare<[string, number, number], KeyedRunCount>(
    `SELECT workflow, concurrency_key AS key,
            sum(CASE WHEN status <> 'queued' THEN 1 ELSE 0 END) AS active,
            sum(CASE WHEN status = 'queued' THEN 1 ELSE 0 END) AS queued
       FROM runs
      WHERE status IN ('queued', 'running', 'waiting', 'paused') AND concurrency_key IS NOT NULL
        AND workflow IN (SELECT value FROM json_each(?))
        AND NOT (status = 'queued' AND wake_at IS NOT NULL AND wake_at > ?)
        AND NOT (status = 'paused' AND started_at IS NULL)
      GROUP BY workflow, concurrency_key
      ORDER BY workflow, concurrency_key
      LIMIT ?`,
  );
  return (workflows, now, limit) => count.all(JSON.stringify(workflows), now, limit);
}
