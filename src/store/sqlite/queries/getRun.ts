import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS, runOfRow } from '../runRow.js';

/** Reads one run by id. Index: the runs primary key. */
export function prepareGetRun(db: Database.Database): (id: string) => RunRecord | undefined {
  const select = db.prepare<[string], unknown[]>(`SELECT ${RUN_SELECT_COLUMNS} FROM runs WHERE id = ?`).raw();
  return (id) => {
    const row = select.get(id);
    return row && runOfRow(row);
  };
}
