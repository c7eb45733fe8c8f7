import type Database from 'better-sqlite3';
import type { WaitRecord } from '../../types.js';
import { WAIT_SELECT_COLUMNS, waitOfRow } from '../waitRow.js';

/** The waits of a run, oldest first. Index: the waits primary key (run_id first). */
export function prepareGetWaits(db: Database.Database): (runId: string) => WaitRecord[] {
  const get = db
    .prepare<[string], unknown[]>(
      `SELECT ${WAIT_SELECT_COLUMNS} FROM waits WHERE run_id = ? ORDER BY created_at, step, key`,
    )
    .raw();
  return (runId) => get.all(runId).map(waitOfRow);
}

/**
 * The waits of many runs in one statement, each run's oldest first: what loading a batch of
 * sleepers reads. Rows as arrays mapped by waitOfRow. Index: the waits primary key.
 */
export function prepareGetWaitsOfRuns(db: Database.Database): (runIds: readonly string[]) => WaitRecord[] {
  const get = db
    .prepare<[string], unknown[]>(
      `SELECT ${WAIT_SELECT_COLUMNS} FROM waits
        WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, step, key`,
    )
    .raw();
  return (runIds) => get.all(JSON.stringify(runIds)).map(waitOfRow);
}
