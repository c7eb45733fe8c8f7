import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/**
 * Sleeping runs whose wake-up time has come, earliest first, of the given workflows: what the
 * engine's wake-up scan loads. Index: runs_wake_idx (partial: only sleeping runs are in it).
 */
export function prepareListRunsToWake(
  db: Database.Database,
): (now: number, limit: number, workflows: readonly string[]) => RunRecord[] {
  const due = db.prepare<[number, string, number], RunRecord>(
    `SELECT ${RUN_SELECT_COLUMNS} FROM runs
      WHERE wake_at IS NOT NULL AND wake_at <= ? AND status IN ('queued', 'running', 'waiting')
        AND workflow IN (SELECT value FROM json_each(?))
      ORDER BY wake_at, id
      LIMIT ?`,
  );
  return (now, limit, workflows) => due.all(now, JSON.stringify(workflows), limit);
}
