import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS, runOfRow } from '../runRow.js';

/**
 * Runs to resume after a restart: status queued or running (not paused, not finished), oldest
 * first, optionally only of some workflows, and with `now`, not those asleep until later (the
 * wake-up scan loads them when they are due). The workflow list is one JSON parameter expanded by
 * json_each, so any number of names uses one prepared statement.
 * Index: runs_status_created_idx (two short ranges, one per status).
 */
export function prepareListUnfinishedRuns(
  db: Database.Database,
): (workflows?: readonly string[], now?: number) => RunRecord[] {
  const all = db
    .prepare<[number], unknown[]>(
      `SELECT ${RUN_SELECT_COLUMNS} FROM runs
      WHERE status IN ('queued', 'running', 'waiting') AND (wake_at IS NULL OR wake_at <= ?)
      ORDER BY created_at, id`,
    )
    .raw();
  const ofWorkflows = db
    .prepare<[string, number], unknown[]>(
      `SELECT ${RUN_SELECT_COLUMNS} FROM runs
      WHERE status IN ('queued', 'running', 'waiting') AND workflow IN (SELECT value FROM json_each(?))
        AND (wake_at IS NULL OR wake_at <= ?)
      ORDER BY created_at, id`,
    )
    .raw();
  return (workflows, now = Number.MAX_SAFE_INTEGER) =>
    (workflows === undefined ? all.all(now) : ofWorkflows.all(JSON.stringify(workflows), now)).map(runOfRow);
}
