import type Database from 'better-sqlite3';
import type { ForkRecord } from '../../types.js';
import { FORK_SELECT_COLUMNS, type ForkRow, forkFromRow } from '../forkRow.js';

/** The runs forked from a run, oldest first. Index: forks_forked_from_idx (forked_from, created_at). */
export function prepareListForks(db: Database.Database): (runId: string, limit: number) => ForkRecord[] {
  const select = db.prepare<[string, number], ForkRow>(
    `SELECT ${FORK_SELECT_COLUMNS} FROM forks WHERE forked_from = ? ORDER BY created_at, run_id LIMIT ?`,
  );
  return (runId, limit) => select.all(runId, limit).map(forkFromRow);
}
