import type Database from 'better-sqlite3';
import { ScheduleChangedError, ScheduleExistsError } from '../../../model/errors.js';
import type { ScheduleWrite } from '../../types.js';

/**
 * Writes schedules and their ticks: an insert for a new schedule (ScheduleExistsError if the id is
 * taken), else an update that compare-and-sets the version (ScheduleChangedError when it moved on).
 * Throws inside the caller's transaction, so nothing of it lands. Ticks upsert by (schedule, time).
 * Index: the schedules and schedule_ticks primary keys.
 */
export function prepareWriteSchedules(db: Database.Database): (writes: readonly ScheduleWrite[]) => void {
  const insert = db.prepare(
    `INSERT INTO schedules (id, workflow, cron, timezone, input, overlap, catchup_window_ms, jitter_ms, paused,
       next_fire_at, due_at, last_scheduled_at, last_run_id, buffered, claimed_by, claimed_until, version,
       created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const update = db.prepare(
    `UPDATE schedules SET workflow = ?, cron = ?, timezone = ?, input = ?, overlap = ?, catchup_window_ms = ?,
       jitter_ms = ?, paused = ?, next_fire_at = ?, due_at = ?, last_scheduled_at = ?, last_run_id = ?,
       buffered = ?, claimed_by = ?, claimed_until = ?, version = ?, updated_at = ?
     WHERE id = ? AND version = ?`,
  );
  const upsertTick = db.prepare(
    `INSERT INTO schedule_ticks (schedule_id, scheduled_at, status, reason, run_id, source, at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (schedule_id, scheduled_at) DO UPDATE SET
       status = excluded.status, reason = excluded.reason, run_id = excluded.run_id, at = excluded.at`,
  );
  return (writes) => {
    for (const w of writes) {
      const s = w.schedule;
      const common = [
        s.workflow,
        s.cron,
        s.timezone,
        s.input,
        s.overlap,
        s.catchupWindowMs,
        s.jitterMs,
        s.paused ? 1 : 0,
        s.nextFireAt,
        s.dueAt,
        s.lastScheduledAt,
        s.lastRunId,
        JSON.stringify(s.buffered),
        s.claimedBy,
        s.claimedUntil,
        s.version,
      ];
      if (w.expectedVersion === null) {
        if (!insert.run(s.id, ...common, s.createdAt, s.updatedAt).changes) throw new ScheduleExistsError(s.id);
      } else if (!update.run(...common, s.updatedAt, s.id, w.expectedVersion).changes) {
        throw new ScheduleChangedError(s.id, w.expectedVersion);
      }
      for (const t of w.ticks) upsertTick.run(t.scheduleId, t.scheduledAt, t.status, t.reason, t.runId, t.source, t.at);
    }
  };
}
