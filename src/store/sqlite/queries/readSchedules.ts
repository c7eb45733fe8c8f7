import type Database from 'better-sqlite3';
import type { ScheduleRecord, ScheduleTickRecord } from '../../types.js';
import {
  SCHEDULE_SELECT_COLUMNS,
  type ScheduleRow,
  scheduleFromRow,
  TICK_SELECT_COLUMNS,
  type TickRow,
} from '../scheduleRow.js';

/** One schedule by id. Index: the schedules primary key. */
export function prepareGetSchedule(db: Database.Database): (id: string) => ScheduleRecord | undefined {
  const select = db.prepare<[string], ScheduleRow>(`SELECT ${SCHEDULE_SELECT_COLUMNS} FROM schedules WHERE id = ?`);
  return (id) => {
    const row = select.get(id);
    return row ? scheduleFromRow(row) : undefined;
  };
}

/** Every schedule, by id. */
export function prepareListSchedules(db: Database.Database): () => ScheduleRecord[] {
  const select = db.prepare<[], ScheduleRow>(`SELECT ${SCHEDULE_SELECT_COLUMNS} FROM schedules ORDER BY id`);
  return () => select.all().map(scheduleFromRow);
}

/** A schedule's ticks, newest first. Index: the schedule_ticks primary key (read backwards). */
export function prepareListScheduleTicks(db: Database.Database): (id: string, limit: number) => ScheduleTickRecord[] {
  const select = db.prepare<[string, number], TickRow>(
    `SELECT ${TICK_SELECT_COLUMNS} FROM schedule_ticks WHERE schedule_id = ? ORDER BY scheduled_at DESC LIMIT ?`,
  );
  return (id, limit) => select.all(id, limit);
}

/** The earliest due_at of the schedules of these workflows. Index: schedules_due_at_idx. */
export function prepareNextScheduleDueAt(db: Database.Database): (workflows: readonly string[]) => number | null {
  const select = db
    .prepare<[string], number | null>(
      'SELECT min(due_at) FROM schedules WHERE due_at IS NOT NULL AND workflow IN (SELECT value FROM json_each(?))',
    )
    .pluck();
  return (workflows) => select.get(JSON.stringify(workflows)) ?? null;
}
