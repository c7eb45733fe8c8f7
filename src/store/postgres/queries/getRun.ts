import type pg from 'pg';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/** Reads one run by id. Index: the runs primary key. */
export async function getRun(db: pg.Pool, id: string): Promise<RunRecord | undefined> {
  const { rows } = await db.query<RunRecord>({
    name: 'braid_get_run',
    text: `SELECT ${RUN_SELECT_COLUMNS} FROM braid.runs WHERE id = $1`,
    values: [id],
  });
  return rows[0];
}
