import type Database from 'better-sqlite3';
import type { ScheduleRecord } from '../../types.js';
import { SCHEDULE_SELECT_COLUMNS, type ScheduleRow, scheduleFromRow } from '../scheduleRow.js';

/**
 * Leases up to `limit` due schedules of `workflows` to `owner` (one executor per SQLite file, so the lease only
 * matters for a process that died holding it). Index: schedules_due_at_idx.
 */
export function prepareClaimDueSchedules(
  db: Database.Database,
): (now: number, owner: string, leaseMs: number, limit: number, workflows: readonly string[]) => ScheduleRecord[] {
  const claim = db.prepare<[string, number, number, string, number, string, number], ScheduleRow>(
    `UPDATE schedules SET claimed_by = ?, claimed_until = ?
      WHERE id IN (SELECT id FROM schedules
                    WHERE due_at IS NOT NULL AND due_at <= ?
                      AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until <= ?)
                      AND workflow IN (SELECT value FROM json_each(?))
                    ORDER BY due_at LIMIT ?)
      RETURNING ${SCHEDULE_SELECT_COLUMNS}`,
  );
  return (now, owner, leaseMs, limit, workflows) =>
    claim
      .all(owner, now + leaseMs, now, owner, now, JSON.stringify(workflows), limit)
      .map(scheduleFromRow)
      .sort((a, b) => (a.dueAt as number) - (b.dueAt as number));
}
