import type pg from 'pg';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/**
 * Runs to resume after a restart: status queued or running (not paused, not finished), oldest
 * first, optionally only of some workflows (one array parameter, so any number of names shares
 * one statement), and not those asleep past `now`. Index: runs_status_created_idx (two short
 * ranges, one per status).
 */
export async function listUnfinishedRuns(
  db: pg.Pool,
  workflows?: readonly string[],
  now = Number.MAX_SAFE_INTEGER,
): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRecord>(
    workflows === undefined
      ? {
          name: 'braid_list_unfinished_runs',
          text: `SELECT ${RUN_SELECT_COLUMNS} FROM braid.runs
                  WHERE status IN ('queued', 'running', 'waiting') AND (wake_at IS NULL OR wake_at <= $1)
                  ORDER BY created_at, id`,
          values: [now],
        }
      : {
          name: 'braid_list_unfinished_runs_of_workflows',
          text: `SELECT ${RUN_SELECT_COLUMNS} FROM braid.runs
                  WHERE status IN ('queued', 'running', 'waiting') AND workflow = ANY($1::text[])
                    AND (wake_at IS NULL OR wake_at <= $2)
                  ORDER BY created_at, id`,
          values: [workflows, now],
        },
  );
  return rows;
}
