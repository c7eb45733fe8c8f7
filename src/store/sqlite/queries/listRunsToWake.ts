import type Database from 'better-sqlite3';
import type { WakeCursor } from '../../store.js';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS, runOfRow } from '../runRow.js';

/** Before every run in (wake_at, id) order: the cursor of a first batch. */
const START: WakeCursor = { wakeAt: Number.MIN_SAFE_INTEGER, id: '' };

/**
 * Sleeping runs whose wake-up time has come, of the given workflows, in (wake_at, id) order past
 * the cursor `after`: what the engine's wake-up scan loads, batch after batch. Index:
 * runs_wake_idx (wake_at, id), partial (only sleeping runs are in it): the row-value comparison
 * is one range of it, read in its order, so a batch reads its own rows only, also among 100,000
 * runs due at the same millisecond. INDEXED BY pins it: without statistics the planner walked
 * runs_status_created_idx (every unfinished run) and sorted, which made each batch read all due
 * runs (waking 100,000 runs due at once read billions of rows).
 */
export function prepareListRunsToWake(
  db: Database.Database,
): (now: number, limit: number, workflows: readonly string[], after?: WakeCursor) => RunRecord[] {
  const due = db
    .prepare<[number, number, string, string, number], unknown[]>(
      `SELECT ${RUN_SELECT_COLUMNS} FROM runs INDEXED BY runs_wake_idx
      WHERE wake_at IS NOT NULL AND wake_at <= ? AND (wake_at, id) > (?, ?)
        AND status IN ('queued', 'running', 'waiting')
        AND workflow IN (SELECT value FROM json_each(?))
      ORDER BY wake_at, id
      LIMIT ?`,
    )
    .raw();
  return (now, limit, workflows, after = START) =>
    due.all(now, after.wakeAt, after.id, JSON.stringify(workflows), limit).map(runOfRow);
}
