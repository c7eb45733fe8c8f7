import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS, runOfRow } from '../runRow.js';

/** Reads the run that holds an idempotency key (the first one started with it). Index: runs_idempotency_key_idx. */
export function prepareFindRunByIdempotencyKey(db: Database.Database): (key: string) => RunRecord | undefined {
  const select = db
    .prepare<[string], unknown[]>(`SELECT ${RUN_SELECT_COLUMNS} FROM runs WHERE idempotency_key = ?`)
    .raw();
  return (key) => {
    const row = select.get(key);
    return row && runOfRow(row);
  };
}
