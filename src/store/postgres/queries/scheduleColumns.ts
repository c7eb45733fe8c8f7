import type { ScheduleOverlap, ScheduleRecord } from '../../types.js';

export const SCHEDULE_COLUMNS =
  'id, workflow, cron, timezone, input, overlap, catchup_window_ms::float8 AS "catchupWindowMs", ' +
  'jitter_ms::float8 AS "jitterMs", paused, next_fire_at::float8 AS "nextFireAt", due_at::float8 AS "dueAt", ' +
  'last_scheduled_at::float8 AS "lastScheduledAt", last_run_id AS "lastRunId", buffered, ' +
  'claimed_by AS "claimedBy", claimed_until::float8 AS "claimedUntil", version::float8 AS version, ' +
  'created_at::float8 AS "createdAt", updated_at::float8 AS "updatedAt"';

export type ScheduleRow = Omit<ScheduleRecord, 'buffered' | 'overlap'> & { buffered: string; overlap: string };

export const scheduleFromRow = (row: ScheduleRow): ScheduleRecord => ({
  ...row,
  overlap: row.overlap as ScheduleOverlap,
  buffered: JSON.parse(row.buffered),
});

export const TICK_COLUMNS =
  'schedule_id AS "scheduleId", scheduled_at::float8 AS "scheduledAt", status, reason, run_id AS "runId", source, ' +
  'at::float8 AS at';
