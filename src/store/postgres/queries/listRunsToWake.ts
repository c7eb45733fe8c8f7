import type pg from 'pg';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/**
 * Sleeping runs whose wake-up time has come, earliest first, of the given workflows.
 * Index: runs_wake_idx (partial: only sleeping runs are in it), in its order: no tie-break on id,
 * which would sort every run due at the same time on each batch.
 */
export async function listRunsToWake(
  db: pg.Pool,
  now: number,
  limit: number,
  workflows: readonly string[],
): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRecord>({
    name: 'braid_list_runs_to_wake',
    text: `SELECT ${RUN_SELECT_COLUMNS} FROM braid.runs
            WHERE wake_at IS NOT NULL AND wake_at <= $1 AND status IN ('queued', 'running', 'waiting')
              AND workflow = ANY($3::text[])
            ORDER BY wake_at
            LIMIT $2`,
    values: [now, limit, workflows],
  });
  return rows;
}
