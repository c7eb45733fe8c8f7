import type Database from 'better-sqlite3';

/** Deletes a schedule and its ticks in one transaction (its runs stay). Index: the primary keys. */
export function prepareDeleteSchedule(db: Database.Database): (id: string) => boolean {
  const ticks = db.prepare('DELETE FROM schedule_ticks WHERE schedule_id = ?');
  const schedule = db.prepare('DELETE FROM schedules WHERE id = ?');
  return db.transaction((id: string) => {
    ticks.run(id);
    return schedule.run(id).changes > 0;
  });
}
