import type pg from 'pg';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/** Reads the run that holds an idempotency key (the first one started with it). Index: runs_idempotency_key_idx. */
export async function findRunByIdempotencyKey(db: pg.Pool, key: string): Promise<RunRecord | undefined> {
  const { rows } = await db.query<RunRecord>({
    name: 'braid_find_run_by_idempotency_key',
    text: `SELECT ${RUN_SELECT_COLUMNS} FROM braid.runs WHERE idempotency_key = $1`,
    values: [key],
  });
  return rows[0];
}
