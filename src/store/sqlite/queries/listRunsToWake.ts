import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS, runOfRow } from '../runRow.js';

/**
 * Sleeping runs whose wake-up time has come, earliest first, of the given workflows: what the
 * engine's wake-up scan loads. Index: runs_wake_idx (partial: only sleeping runs are in it), read
 * in its order, so a batch reads its own rows only. INDEXED BY pins it: without statistics the
 * planner walked runs_status_created_idx (every unfinished run) and sorted; and a tie-break on id
 * sorted every run due at the same time. Either made each batch read all due runs: waking 100,000
 * runs due at once read billions of rows.
 */
export function prepareListRunsToWake(
  db: Database.Database,
): (now: number, limit: number, workflows: readonly string[]) => RunRecord[] {
  const due = db
    .prepare<[number, string, number], unknown[]>(
      `SELECT ${RUN_SELECT_COLUMNS} FROM runs INDEXED BY runs_wake_idx
      WHERE wake_at IS NOT NULL AND wake_at <= ? AND status IN ('queued', 'running', 'waiting')
        AND workflow IN (SELECT value FROM json_each(?))
      ORDER BY wake_at
      LIMIT ?`,
    )
    .raw();
  return (now, limit, workflows) => due.all(now, JSON.stringify(workflows), limit).map(runOfRow);
}
