import type pg from 'pg';
import type { WaitRecord } from '../../types.js';

export const WAIT_COLUMNS =
  'run_id AS "runId", step, key, grp AS "group", kind, status, due_at AS "dueAt", name, event_key AS "eventKey", ' +
  'match, since, after_seq AS "afterSeq", request, value, created_at AS "createdAt", resolved_at AS "resolvedAt"';

/** The waits of a run, oldest first. Index: the waits primary key (run_id first). */
export async function getWaits(db: pg.Pool, runId: string): Promise<WaitRecord[]> {
  const { rows } = await db.query<WaitRecord>({
    name: 'braid_get_waits',
    text: `SELECT ${WAIT_COLUMNS} FROM braid.waits WHERE run_id = $1 ORDER BY created_at, step, key`,
    values: [runId],
  });
  return rows;
}
