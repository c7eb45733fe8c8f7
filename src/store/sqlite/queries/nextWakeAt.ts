import type Database from 'better-sqlite3';

/**
 * The earliest wake-up time of the sleeping runs of the given workflows: where the engine arms
 * its one scan timer. Index: runs_wake_idx (partial: only sleeping runs are in it).
 */
export function prepareNextWakeAt(db: Database.Database): (workflows: readonly string[]) => number | null {
  const next = db
    .prepare<[string], number | null>(
      `SELECT min(wake_at) FROM runs
        WHERE wake_at IS NOT NULL AND status IN ('queued', 'running', 'waiting')
          AND workflow IN (SELECT value FROM json_each(?))`,
    )
    .pluck();
  return (workflows) => next.get(JSON.stringify(workflows)) ?? null;
}
