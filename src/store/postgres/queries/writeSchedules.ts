import type pg from 'pg';
import { ScheduleChangedError, ScheduleExistsError } from '../../../model/errors.js';
import type { ScheduleWrite } from '../../types.js';

/**
 * Writes schedules and their ticks inside the caller's transaction: an insert for a new schedule
 * (ScheduleExistsError if the id is taken), else an update that compare-and-sets the version. A
 * concurrent writer of the same row waits on its row lock and then finds the version moved on
 * (ScheduleChangedError): the throw rolls the caller's transaction back, the tick's run with it.
 * Ticks upsert by (schedule, time). Index: the schedules and schedule_ticks primary keys.
 */
export async function writeSchedules(db: pg.ClientBase, writes: readonly ScheduleWrite[]): Promise<void> {
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
      s.paused,
      s.nextFireAt,
      s.dueAt,
      s.lastScheduledAt,
      s.lastRunId,
      JSON.stringify(s.buffered),
      s.claimedBy,
      s.claimedUntil,
      s.version,
      s.updatedAt,
    ];
    if (w.expectedVersion === null) {
      const { rowCount } = await db.query({
        name: 'braid_insert_schedule',
        text: `INSERT INTO braid.schedules (workflow, cron, timezone, input, overlap, catchup_window_ms, jitter_ms,
                 paused, next_fire_at, due_at, last_scheduled_at, last_run_id, buffered, claimed_by, claimed_until,
                 version, updated_at, id, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
               ON CONFLICT (id) DO NOTHING`,
        values: [...common, s.id, s.createdAt],
      });
      if (!rowCount) throw new ScheduleExistsError(s.id);
    } else {
      const { rowCount } = await db.query({
        name: 'braid_update_schedule',
        text: `UPDATE braid.schedules SET workflow = $1, cron = $2, timezone = $3, input = $4, overlap = $5,
                 catchup_window_ms = $6, jitter_ms = $7, paused = $8, next_fire_at = $9, due_at = $10,
                 last_scheduled_at = $11, last_run_id = $12, buffered = $13, claimed_by = $14, claimed_until = $15,
                 version = $16, updated_at = $17
               WHERE id = $18 AND version = $19`,
        values: [...common, s.id, w.expectedVersion],
      });
      if (!rowCount) throw new ScheduleChangedError(s.id, w.expectedVersion);
    }
    if (!w.ticks.length) continue;
    await db.query({
      name: 'braid_upsert_schedule_ticks',
      text: `INSERT INTO braid.schedule_ticks (schedule_id, scheduled_at, status, reason, run_id, source, at)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
             ON CONFLICT (schedule_id, scheduled_at) DO UPDATE SET
               status = excluded.status, reason = excluded.reason, run_id = excluded.run_id, at = excluded.at`,
      values: [
        w.ticks.map((t) => t.scheduleId),
        w.ticks.map((t) => t.scheduledAt),
        w.ticks.map((t) => t.status),
        w.ticks.map((t) => t.reason),
        w.ticks.map((t) => t.runId),
        w.ticks.map((t) => t.source),
        w.ticks.map((t) => t.at),
      ],
    });
  }
}
