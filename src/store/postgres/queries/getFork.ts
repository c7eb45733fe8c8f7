import type pg from 'pg';
import type { ForkRecord } from '../../types.js';

export const FORK_COLUMNS =
  'run_id AS "runId", forked_from AS "forkedFrom", from_step AS "fromStep", reused_steps AS "reusedSteps", ' +
  'overridden_steps AS "overriddenSteps", created_at AS "createdAt"';

/** The fork link of a forked run. Index: the forks primary key. */
export async function getFork(db: pg.Pool, runId: string): Promise<ForkRecord | undefined> {
  const { rows } = await db.query<ForkRecord>({
    name: 'braid_get_fork',
    text: `SELECT ${FORK_COLUMNS} FROM braid.forks WHERE run_id = $1`,
    values: [runId],
  });
  return rows[0];
}
