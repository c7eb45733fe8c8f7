import type pg from 'pg';
import type { WakeCursor } from '../../store.js';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/** Before every run in (wake_at, id) order: the cursor of a first batch. */
const START: WakeCursor = { wakeAt: Number.MIN_SAFE_INTEGER, id: '' };

/**
 * Sleeping runs whose wake-up time has come, of the given workflows, in (wake_at, id) order past
 * the cursor `after`. Index: runs_wake_idx (wake_at, id), partial (only sleeping runs are in it):
 * the row comparison is one range of it, in its order, so a batch reads its own rows only, also
 * among many runs due at the same millisecond.
 */
export async function listRunsToWake(
  db: pg.Pool,
  now: number,
  limit: number,
  workflows: readonly string[],
  after: WakeCursor = START,
): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRecord>({
    name: 'braid_list_runs_to_wake',
    text: `SELECT ${RUN_SELECT_COLUMNS} FROM braid.runs
            WHERE wake_at IS NOT NULL AND wake_at <= $1 AND (wake_at, id) > ($4::bigint, $5::text)
              AND status IN ('queued', 'running', 'waiting') AND workflow = ANY($3::text[])
            ORDER BY wake_at, id
            LIMIT $2`,
    values: [now, limit, workflows, after.wakeAt, after.id],
  });
  return rows;
}
