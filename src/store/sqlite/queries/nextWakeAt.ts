import type Database from 'better-sqlite3';

/**
 * The earliest wake-up time of the sleeping runs of the given workflows: where the engine arms
 * its one scan timer. Index: runs_wake_idx (partial: only sleeping runs are in it), walked from its
 * start to the first run that matches (min() would read all of them); pinned, as the planner would
 * otherwise scan every unfinished run.
 */
export function prepareNextWakeAt(db: Database.Database): (workflows: readonly string[]) => number | null {
  const next = db
    .prepare<[string], number | null>(
      `SELECT wake_at FROM runs INDEXED BY runs_wake_idx
        WHERE wake_at IS NOT NULL AND status IN ('queued', 'running', 'waiting')
          AND workflow IN (SELECT value FROM json_each(?))
        ORDER BY wake_at LIMIT 1`,
    )
    .pluck();
  return (workflows) => next.get(JSON.stringify(workflows)) ?? null;
}
