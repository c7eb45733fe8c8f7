import type pg from 'pg';
import type { ScheduleRecord } from '../../types.js';
import { SCHEDULE_COLUMNS, type ScheduleRow, scheduleFromRow } from './scheduleColumns.js';

/**
 * Leases up to `limit` due schedules of `workflows` (those the worker runs) to `owner` until `now + leaseMs`. FOR UPDATE SKIP LOCKED: a
 * row another worker is claiming right now is passed over, not waited for, so three workers woken
 * by the same tick split the due schedules instead of queueing on them; a row leased to another
 * live worker is left alone. The writes that follow still compare-and-set the version.
 * Index: schedules_due_at_idx.
 */
export async function claimDueSchedules(
  db: pg.Pool,
  now: number,
  owner: string,
  leaseMs: number,
  limit: number,
  workflows: readonly string[],
): Promise<ScheduleRecord[]> {
  const { rows } = await db.query<ScheduleRow>({
    name: 'braid_claim_due_schedules',
    text: `WITH picked AS (
             SELECT id FROM braid.schedules
              WHERE due_at IS NOT NULL AND due_at <= $1
                AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until <= $1)
                AND workflow = ANY($5::text[])
              ORDER BY due_at LIMIT $4
                FOR UPDATE SKIP LOCKED)
         , claimed AS (
           UPDATE braid.schedules s SET claimed_by = $2, claimed_until = $1 + $3
             FROM picked WHERE s.id = picked.id
           RETURNING s.*)
           SELECT ${SCHEDULE_COLUMNS} FROM claimed`,
    values: [now, owner, leaseMs, limit, workflows],
  });
  return rows.map(scheduleFromRow).sort((a, b) => (a.dueAt as number) - (b.dueAt as number));
}
