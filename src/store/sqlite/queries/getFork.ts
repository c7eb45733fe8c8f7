import type Database from 'better-sqlite3';
import type { ForkRecord } from '../../types.js';
import { FORK_SELECT_COLUMNS, type ForkRow, forkFromRow } from '../forkRow.js';

/** The fork link of a forked run. Index: the forks primary key. */
export function prepareGetFork(db: Database.Database): (runId: string) => ForkRecord | undefined {
  const select = db.prepare<[string], ForkRow>(`SELECT ${FORK_SELECT_COLUMNS} FROM forks WHERE run_id = ?`);
  return (runId) => {
    const row = select.get(runId);
    return row ? forkFromRow(row) : undefined;
  };
}
