import type pg from 'pg';
import type { ForkRecord } from '../../types.js';
import { FORK_COLUMNS } from './getFork.js';

/** The runs forked from a run, oldest first. Index: forks_forked_from_idx (forked_from, created_at). */
export async function listForks(db: pg.Pool, runId: string, limit: number): Promise<ForkRecord[]> {
  const { rows } = await db.query<ForkRecord>({
    name: 'braid_list_forks',
    text: `SELECT ${FORK_COLUMNS} FROM braid.forks WHERE forked_from = $1 ORDER BY created_at, run_id LIMIT $2`,
    values: [runId, limit],
  });
  return rows;
}
