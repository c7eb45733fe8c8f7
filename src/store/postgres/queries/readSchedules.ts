import type pg from 'pg';
import type { ScheduleRecord, ScheduleTickRecord } from '../../types.js';
import { SCHEDULE_COLUMNS, type ScheduleRow, scheduleFromRow, TICK_COLUMNS } from './scheduleColumns.js';

/** One schedule by id. Index: the schedules primary key. */
export async function getSchedule(db: pg.Pool, id: string): Promise<ScheduleRecord | undefined> {
  const { rows } = await db.query<ScheduleRow>({
    name: 'braid_get_schedule',
    text: `SELECT ${SCHEDULE_COLUMNS} FROM braid.schedules WHERE id = $1`,
    values: [id],
  });
  return rows[0] && scheduleFromRow(rows[0]);
}

/** Every schedule, by id. */
export async function listSchedules(db: pg.Pool): Promise<ScheduleRecord[]> {
  const { rows } = await db.query<ScheduleRow>({
    name: 'braid_list_schedules',
    text: `SELECT ${SCHEDULE_COLUMNS} FROM braid.schedules ORDER BY id`,
  });
  return rows.map(scheduleFromRow);
}

/** A schedule's ticks, newest first. Index: the schedule_ticks primary key (read backwards). */
export async function listScheduleTicks(db: pg.Pool, id: string, limit: number): Promise<ScheduleTickRecord[]> {
  const { rows } = await db.query<ScheduleTickRecord>({
    name: 'braid_list_schedule_ticks',
    text: `SELECT ${TICK_COLUMNS} FROM braid.schedule_ticks WHERE schedule_id = $1 ORDER BY scheduled_at DESC LIMIT $2`,
    values: [id, limit],
  });
  return rows;
}

/** The earliest due_at of the schedules of these workflows. Index: schedules_due_at_idx. */
export async function nextScheduleDueAt(db: pg.Pool, workflows: readonly string[]): Promise<number | null> {
  const { rows } = await db.query<{ dueAt: number | null }>({
    name: 'braid_next_schedule_due_at',
    text: `SELECT min(due_at)::float8 AS "dueAt" FROM braid.schedules
            WHERE due_at IS NOT NULL AND workflow = ANY($1::text[])`,
    values: [workflows],
  });
  return rows[0]?.dueAt ?? null;
}

/** Deletes a schedule and its ticks in one statement (its runs stay). Index: the primary keys. */
export async function deleteSchedule(db: pg.Pool, id: string): Promise<boolean> {
  const { rows } = await db.query<{ deleted: number }>({
    name: 'braid_delete_schedule',
    text: `WITH ticks AS (DELETE FROM braid.schedule_ticks WHERE schedule_id = $1),
                gone AS (DELETE FROM braid.schedules WHERE id = $1 RETURNING 1)
           SELECT count(*)::int AS deleted FROM gone`,
    values: [id],
  });
  return (rows[0]?.deleted ?? 0) > 0;
}
