import type pg from 'pg';
import type { DueSchedules } from '../../types.js';
import { DATABASE_NOW_MS } from '../databaseClock.js';
import { SCHEDULE_COLUMNS, type ScheduleRow, scheduleFromRow } from './scheduleColumns.js';

/**
 * Leases up to `limit` due schedules of `workflows` (those the worker runs) to `owner` for
 * `leaseMs`. Due times and leases are judged by the database's clock, like every other deadline on
 * PostgreSQL (databaseClock.ts): workers whose host clocks disagree still agree on when a tick is
 * due and when a lease has run out, so none fires a tick early or leaves it late. The claim answers
 * with that time, and the worker handles the ticks by it. FOR UPDATE SKIP LOCKED: a row another
 * worker is claiming right now is passed over, not waited for, so three workers woken by the same
 * tick split the due schedules instead of queueing on them; a row leased to another live worker is
 * left alone. The writes that follow still compare-and-set the version.
 * Index: schedules_due_at_idx.
 */
export async function claimDueSchedules(
  db: pg.Pool,
  owner: string,
  leaseMs: number,
  limit: number,
  workflows: readonly string[],
): Promise<DueSchedules> {
  const { rows } = await db.query<ScheduleRow & { claimNow: string }>({
    name: 'braid_claim_due_schedules',
    text: `WITH clock AS (SELECT ${DATABASE_NOW_MS} AS now)
         , picked AS (
             SELECT id FROM braid.schedules, clock
              WHERE due_at IS NOT NULL AND due_at <= clock.now
                AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_until <= clock.now)
                AND workflow = ANY($4::text[])
              ORDER BY due_at LIMIT $3
                FOR UPDATE OF schedules SKIP LOCKED)
         , claimed AS (
           UPDATE braid.schedules s SET claimed_by = $1, claimed_until = clock.now + $2
             FROM picked, clock WHERE s.id = picked.id
           RETURNING s.*)
           SELECT clock.now AS "claimNow", claimed_rows.* FROM clock
             LEFT JOIN (SELECT ${SCHEDULE_COLUMNS} FROM claimed) AS claimed_rows ON true`,
    values: [owner, leaseMs, limit, workflows],
  });
  const now = Number(rows[0]?.claimNow);
  const schedules = rows
    .filter((row) => row.id !== null)
    .map(({ claimNow: _, ...row }) => scheduleFromRow(row))
    .sort((a, b) => (a.dueAt as number) - (b.dueAt as number));
  return { schedules, now };
}
