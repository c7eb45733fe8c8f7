import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/** Reads one run by id. Index: the runs primary key. */
export function prepareGetRun(db: Database.Database): (id: string) => RunRecord | undefined {
  const select = db.prepare<[string], RunRecord>(`SELECT ${RUN_SELECT_COLUMNS} FROM runs WHERE id = ?`);
  return (id) => select.get(id);
}
